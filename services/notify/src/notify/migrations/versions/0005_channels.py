"""channels: the SMS provider's id and delivery receipt of a delivery, the channels that
failed it for good (the next one is tried), the start of its retry window; each
complaint's reference, assignee and priority beside its team (staff notices are written
without the customer's contacts)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("provider_message_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("receipt_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("receipt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("receipt_error", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("failed_channels", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_deliveries_provider_message_id", ["provider_message_id"], unique=False
        )
    with op.batch_alter_table("complaint_teams") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("priority", sa.String(length=8), nullable=True))
        batch.alter_column("team", existing_type=sa.String(length=60), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("complaint_teams") as batch:
        batch.alter_column("team", existing_type=sa.String(length=60), nullable=False)
        batch.drop_column("priority")
        batch.drop_column("assignee")
        batch.drop_column("reference")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_provider_message_id")
        batch.drop_column("first_attempt_at")
        batch.drop_column("failed_channels")
        batch.drop_column("receipt_error")
        batch.drop_column("receipt_at")
        batch.drop_column("receipt_status")
        batch.drop_column("provider_message_id")
