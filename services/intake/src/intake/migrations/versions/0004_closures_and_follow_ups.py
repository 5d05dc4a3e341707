"""closures and follow-ups: when and why a complaint was closed, the complaint one follows up

complaints.closed_at, complaints.close_reason: projected from routing's complaint.closed
(the latest closure), read when the customer writes on a closed complaint (within the
reopen window the message reopens it, later it opens a new complaint, a withdrawn one
refuses it). complaints.related_complaint_id: the earlier complaint a new one follows up,
indexed for the other direction (a complaint's follow-ups).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("related_complaint_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_complaints_related_complaint_id"),
            ["related_complaint_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_related_complaint_id"))
        batch_op.drop_column("related_complaint_id")
        batch_op.drop_column("close_reason")
        batch_op.drop_column("closed_at")
