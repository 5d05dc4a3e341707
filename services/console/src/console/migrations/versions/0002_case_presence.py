"""case presence: who is writing on a case, until when (the case page's warning)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-20 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_presence",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("activity", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", "user_id", name=op.f("pk_case_presence")),
    )
    with op.batch_alter_table("case_presence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_presence_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_presence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_presence_expires_at"))
    op.drop_table("case_presence")
