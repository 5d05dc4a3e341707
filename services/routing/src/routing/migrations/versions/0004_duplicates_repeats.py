"""duplicates, repeat counts and emotion streaks: the customer index of §4

customer_complaints: one row per complaint as the duplicate and repeat rules see it
(normalised order reference, fingerprint of the masked description, duplicate_of).
customer_identity_keys: identity key (intake's keyed hashes, plus "ref:<customer_ref>")
→ complaint. emotion_streaks: per case, the run of each irritation word.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:45:00
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
        "customer_complaints",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=True),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duplicate_of", sa.String(length=36), nullable=True),
        sa.Column("repeat_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_customer_complaints")),
    )
    with op.batch_alter_table("customer_complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_complaints_duplicate_of"), ["duplicate_of"], unique=False
        )

    op.create_table(
        "customer_identity_keys",
        sa.Column("identity_key", sa.String(length=80), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "identity_key", "complaint_id", name=op.f("pk_customer_identity_keys")
        ),
    )
    with op.batch_alter_table("customer_identity_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_identity_keys_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(
            "ix_customer_identity_keys_key_received",
            ["identity_key", "received_at"],
            unique=False,
        )

    op.create_table(
        "emotion_streaks",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_emotion_streaks")),
    )


def downgrade() -> None:
    op.drop_table("emotion_streaks")
    with op.batch_alter_table("customer_identity_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_identity_keys_key_received")
        batch_op.drop_index(batch_op.f("ix_customer_identity_keys_complaint_id"))
    op.drop_table("customer_identity_keys")
    with op.batch_alter_table("customer_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_complaints_duplicate_of"))
    op.drop_table("customer_complaints")
