"""the customer conversation: agents' display names, follow-ups of a complaint

agents.display_name: how an agent's answers are signed to the customer (NULL: the team's
name or a neutral label, never the user id). ix_case_files_related_complaint_id: the case
file lists the complaints that follow up a case (opened after its reopen window).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=100), nullable=True))
    with op.batch_alter_table("case_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_files_related_complaint_id"), ["related_complaint_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_files_related_complaint_id"))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("display_name")
