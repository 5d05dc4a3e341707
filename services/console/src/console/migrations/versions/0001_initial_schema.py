"""initial schema: the runtime's tables and the live-updates read model

Revision ID: 0001
Revises:
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from complaint_runtime.migrations import create_runtime_tables, drop_runtime_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("team", sa.String(length=60), nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("previous_team", sa.String(length=60), nullable=True),
        sa.Column("previous_assignee", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_changes")),
    )
    with op.batch_alter_table("case_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_changes_recorded_at"), ["recorded_at"], unique=False
        )
    op.create_table(
        "live_cases",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("team", sa.String(length=60), nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_live_cases")),
    )
    create_runtime_tables()


def downgrade() -> None:
    drop_runtime_tables()
    op.drop_table("live_cases")
    with op.batch_alter_table("case_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_changes_recorded_at"))
    op.drop_table("case_changes")
