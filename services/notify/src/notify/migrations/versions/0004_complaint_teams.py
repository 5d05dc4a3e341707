"""complaint teams: each complaint's team as routing last assigned it (who may read its
delivery log)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaint_teams",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("team", sa.String(length=60), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaint_teams")),
    )


def downgrade() -> None:
    op.drop_table("complaint_teams")
