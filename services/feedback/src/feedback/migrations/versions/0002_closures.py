"""closures: each complaint's latest closure and the customer's latest message

A customer message at or after a closure (within intake's reopen window) reopens the
complaint once: feedback keeps the closure (routing's complaint.closed) and the latest
message (intake's complaint.customer_message_received), since the two topics may deliver
them in either order. Ids and times only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-12 09:00:00
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
        "closures",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=20), nullable=True),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_message_id", sa.String(length=200), nullable=True),
        sa.Column("last_message_id", sa.String(length=200), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_closures")),
    )


def downgrade() -> None:
    op.drop_table("closures")
