"""nps: the NPS programme's rounds, requests and opt-outs; each complaint's customer

feedback_complaints.customer_ref: the customer (keyed hash from complaint.received), whom
a round asks about their complaints closed in its period (rows from before this revision
have none and are never sampled). ix_closures_closed_at: a round finds its period's
closures by time. nps_rounds: one per period, resumable (cursor) and shared by replicas
under its row lock. nps_requests: one per customer and period (unique), answered once.
nps_opt_outs: customers who asked not to be asked again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-16 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status = 'open'"


def upgrade() -> None:
    with op.batch_alter_table("feedback_complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_ref", sa.String(length=200), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_feedback_complaints_customer_ref"), ["customer_ref"], unique=False
        )
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closures_closed_at"), ["closed_at"], unique=False)

    op.create_table(
        "nps_rounds",
        sa.Column("period", sa.String(length=41), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("sample_percent", sa.Float(), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("customers_seen", sa.Integer(), nullable=False),
        sa.Column("requests_created", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_nps_rounds")),
    )
    with op.batch_alter_table("nps_rounds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nps_rounds_open",
            ["created_at"],
            unique=False,
            postgresql_where=sa.text(_OPEN),
            sqlite_where=sa.text(_OPEN),
        )

    op.create_table(
        "nps_requests",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=41), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_nps_requests")),
        sa.UniqueConstraint("period", "customer_ref", name=op.f("uq_nps_requests_period")),
    )
    with op.batch_alter_table("nps_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nps_requests_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "nps_opt_outs",
        sa.Column("customer_ref", sa.String(length=200), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("customer_ref", name=op.f("pk_nps_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("nps_opt_outs")
    with op.batch_alter_table("nps_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nps_requests_complaint_id"))
    op.drop_table("nps_requests")
    with op.batch_alter_table("nps_rounds", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_nps_rounds_open", postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN)
        )
    op.drop_table("nps_rounds")
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closures_closed_at"))
    with op.batch_alter_table("feedback_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_complaints_customer_ref"))
        batch_op.drop_column("customer_ref")
