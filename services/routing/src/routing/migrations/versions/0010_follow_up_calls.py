"""follow-up calls and unreachable customers: task windows, the call's CSAT, one open task

tasks.available_from: a task is not workable before it (a follow-up call's window opens
FOLLOW_UP_CALL_AFTER_D after the resolution); NULL: at once. tasks.csat: the CSAT 1..5 a
customer gave on a follow-up call. uq_tasks_one_open: a case has at most one open task of
each kind but the review (follow_up_call, customer_unreachable), so a second resolution or
a second report cannot add another.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SINGLE_OPEN = "status = 'open' AND kind <> 'review_reopen'"


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("available_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("csat", sa.SmallInteger(), nullable=True))
        batch_op.create_index(
            "uq_tasks_one_open",
            ["complaint_id", "kind"],
            unique=True,
            postgresql_where=sa.text(_SINGLE_OPEN),
            sqlite_where=sa.text(_SINGLE_OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tasks_one_open",
            postgresql_where=sa.text(_SINGLE_OPEN),
            sqlite_where=sa.text(_SINGLE_OPEN),
        )
        batch_op.drop_column("csat")
        batch_op.drop_column("available_from")
