"""replies: customers' replies received by e-mail or SMS and their forwarding to intake;
suppressions (bounces, unsubscribes) by recipient key and channel

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_replies",
        sa.Column("reply_id", sa.String(length=36), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_inbound_replies")),
        sa.UniqueConstraint("complaint_id", "external_id", name="uq_inbound_replies_external"),
    )
    op.create_index(
        "ix_inbound_replies_complaint_id", "inbound_replies", ["complaint_id"], unique=False
    )
    op.create_index(
        "ix_inbound_replies_due", "inbound_replies", ["status", "next_attempt_at"], unique=False
    )
    op.create_table(
        "suppressions",
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient_key", "channel", "reason", name=op.f("pk_suppressions")),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_index("ix_inbound_replies_due", table_name="inbound_replies")
    op.drop_index("ix_inbound_replies_complaint_id", table_name="inbound_replies")
    op.drop_table("inbound_replies")
