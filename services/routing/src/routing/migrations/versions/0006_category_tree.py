"""the configurable category tree: administrators' sub-categories and the tree version

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category_subcategories",
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("label_zh", sa.String(length=100), nullable=False),
        sa.Column("label_en", sa.String(length=100), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", "code", name=op.f("pk_category_subcategories")),
    )
    op.create_table(
        "category_tree_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_tree_version")),
    )
    # The single version row exists from the start, so that concurrent first changes
    # serialise on its UPDATE instead of racing to insert it.
    op.execute("INSERT INTO category_tree_version (id, version) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("category_tree_version")
    op.drop_table("category_subcategories")
