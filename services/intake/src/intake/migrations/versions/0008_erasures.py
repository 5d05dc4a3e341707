"""erasure requests and their confirmations; legal holds

``erasures`` (how the customer was named, as a keyed hash only; at most one pending per
name and scope), ``erasure_complaints`` (each complaint covered: held, erased),
``erasure_confirmations`` (each service's confirmation per complaint, once) and
``legal_holds`` (kept after release; at most one active per complaint); complaints indexed
by a front end's customer id.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = "status = 'pending'"
_ACTIVE = "released_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_complaints_customer_id_front_end", ["customer_id", "front_end"], unique=False
        )
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=True),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_front_end", sa.String(length=100), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(
        "uq_erasures_one_pending",
        "erasures",
        ["subject_kind", "subject_hash", "scope"],
        unique=True,
        postgresql_where=sa.text(_PENDING),
        sqlite_where=sa.text(_PENDING),
    )
    op.create_table(
        "erasure_complaints",
        sa.Column("erasure_id", sa.String(length=36), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_erasure_complaints_complaint_id_complaints"),
        ),
        sa.ForeignKeyConstraint(
            ["erasure_id"],
            ["erasures.id"],
            name=op.f("fk_erasure_complaints_erasure_id_erasures"),
        ),
        sa.PrimaryKeyConstraint("erasure_id", "complaint_id", name=op.f("pk_erasure_complaints")),
    )
    op.create_index(
        op.f("ix_erasure_complaints_complaint_id"),
        "erasure_complaints",
        ["complaint_id"],
        unique=False,
    )
    op.create_table(
        "erasure_confirmations",
        sa.Column("erasure_id", sa.String(length=36), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["erasure_id"],
            ["erasures.id"],
            name=op.f("fk_erasure_confirmations_erasure_id_erasures"),
        ),
        sa.PrimaryKeyConstraint(
            "erasure_id", "complaint_id", "service", name=op.f("pk_erasure_confirmations")
        ),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_legal_holds_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(
        op.f("ix_legal_holds_complaint_id"), "legal_holds", ["complaint_id"], unique=False
    )
    op.create_index(
        "uq_legal_holds_one_active",
        "legal_holds",
        ["complaint_id"],
        unique=True,
        postgresql_where=sa.text(_ACTIVE),
        sqlite_where=sa.text(_ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_legal_holds_one_active", table_name="legal_holds")
    op.drop_index(op.f("ix_legal_holds_complaint_id"), table_name="legal_holds")
    op.drop_table("legal_holds")
    op.drop_table("erasure_confirmations")
    op.drop_index(op.f("ix_erasure_complaints_complaint_id"), table_name="erasure_complaints")
    op.drop_table("erasure_complaints")
    op.drop_index("uq_erasures_one_pending", table_name="erasures")
    op.drop_table("erasures")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_customer_id_front_end")
