"""projection of escalation level, duplicate-of and repeat count

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("duplicate_of_reference", sa.String(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("repeat_count", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("repeat_count")
        batch_op.drop_column("duplicate_of_reference")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("escalation_level")
