"""lost-link recovery: tracking_codes

One row per code request of the lost-link page (a decoy, without complaint or code, when
the reference and contact match nothing): the code's keyed hash, its only readable copy
(encrypted, dropped once notify read it), expiry, attempts and use.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-22 09:00:00
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
        "tracking_codes",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("flow_hash", sa.String(length=64), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_tracking_codes_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_tracking_codes")),
    )
    with op.batch_alter_table("tracking_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_codes_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_codes_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_codes_flow_hash"), ["flow_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tracking_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_codes_flow_hash"))
        batch_op.drop_index(batch_op.f("ix_tracking_codes_expires_at"))
        batch_op.drop_index(batch_op.f("ix_tracking_codes_complaint_id"))
    op.drop_table("tracking_codes")
