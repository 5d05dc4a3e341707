"""reminders: the one reminder of a confirmation request, and customers nobody can reach

confirmation_requests.reminded_at: when the request's one reminder went out (set in the
transaction that stages the reminder's event, so it goes out once). unreached_at: when
notify reported that no channel reaches the customer (no reminder then; the auto-close
records the request as not reached). ix_confirmation_requests_remind: the reminder loop
scans only pending, unreminded rows by the time they were sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNREMINDED = "status = 'pending' AND reminded_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("confirmation_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unreached_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_confirmation_requests_remind",
            ["requested_at"],
            unique=False,
            postgresql_where=sa.text(_UNREMINDED),
            sqlite_where=sa.text(_UNREMINDED),
        )


def downgrade() -> None:
    with op.batch_alter_table("confirmation_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_confirmation_requests_remind",
            postgresql_where=sa.text(_UNREMINDED),
            sqlite_where=sa.text(_UNREMINDED),
        )
        batch_op.drop_column("unreached_at")
        batch_op.drop_column("reminded_at")
