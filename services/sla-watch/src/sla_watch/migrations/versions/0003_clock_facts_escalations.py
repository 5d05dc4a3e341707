"""clock facts, pause history, next-response clocks and escalation levels

Clocks gain category, tier, channel, team, message_id and pauses; complaint_sla holds the
per-complaint facts, escalation level and latest agent reply.

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

AT_RISK = sa.text("state = 'running' AND breached = false")
AT_RISK_INDEXES = {
    "ix_clocks_at_risk": ["due_at"],
    "ix_clocks_at_risk_team": ["team", "due_at"],
    "ix_clocks_at_risk_priority": ["priority", "due_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("tier", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("team", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(), nullable=True))
        # Clocks from before this revision have no recorded pauses: their paused_seconds
        # is kept as it is when they are rescheduled (see domain.clock.reschedule).
        batch_op.add_column(
            sa.Column("pauses", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        for name, columns in AT_RISK_INDEXES.items():
            batch_op.create_index(
                name, columns, unique=False, postgresql_where=AT_RISK, sqlite_where=AT_RISK
            )

    op.create_table(
        "complaint_sla",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("team", sa.String(length=200), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("last_agent_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaint_sla")),
    )


def downgrade() -> None:
    op.drop_table("complaint_sla")
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        for name in AT_RISK_INDEXES:
            batch_op.drop_index(name, postgresql_where=AT_RISK, sqlite_where=AT_RISK)
        for column in ("pauses", "message_id", "team", "channel", "tier", "category"):
            batch_op.drop_column(column)
