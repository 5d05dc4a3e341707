"""the case file and case lists: texts, conversation, SLA clocks, search terms

case_files: per case, what complaint.received told beyond the triage (masked subject,
description, order reference, occurred-at, attachments, metadata, the customer's masked
contacts, external ref and preferred channel, the related complaint) and when an erasure
blanked it. case_messages: the conversation (customer messages once per message id, staff
first responses, replies and questions). case_sla_clocks: sla-watch's clocks as routing
projects them. case_search_terms: term -> case. cases: the SLA summary the lists sort and
filter on, and the time of the latest activity (existing cases: their last update).

Cases created before this migration have no case file: their texts are absent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("sla_at_risk", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("sla_breached", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("sla_state", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_cases_sla_order", ["sla_due_at", "received_at", "complaint_id"], unique=False
        )
        batch_op.create_index(
            "ix_cases_team_sla_order",
            ["team", "sla_due_at", "received_at", "complaint_id"],
            unique=False,
        )
    op.execute("UPDATE cases SET last_activity_at = updated_at")

    op.create_table(
        "case_files",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("order_ref", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("customer_external_ref", sa.Text(), nullable=True),
        sa.Column("customer_masked_phone", sa.Text(), nullable=True),
        sa.Column("customer_masked_email", sa.Text(), nullable=True),
        sa.Column("customer_preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("related_complaint_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["cases.complaint_id"],
            name=op.f("fk_case_files_complaint_id_cases"),
        ),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_case_files")),
    )

    op.create_table(
        "case_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("in_reply_to", sa.String(length=200), nullable=True),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["cases.complaint_id"],
            name=op.f("fk_case_messages_complaint_id_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_messages")),
        sa.UniqueConstraint(
            "complaint_id", "message_id", name=op.f("uq_case_messages_complaint_id")
        ),
    )
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_messages_complaint_at", ["complaint_id", "at", "id"], unique=False
        )

    op.create_table(
        "case_sla_clocks",
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("clock_id", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_percent", sa.Integer(), nullable=True),
        sa.Column("breached", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id", "clock_id", name=op.f("pk_case_sla_clocks")),
    )

    op.create_table(
        "case_search_terms",
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["cases.complaint_id"],
            name=op.f("fk_case_search_terms_complaint_id_cases"),
        ),
        sa.PrimaryKeyConstraint("term", "complaint_id", name=op.f("pk_case_search_terms")),
    )
    with op.batch_alter_table("case_search_terms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_search_terms_complaint_id"), ["complaint_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_search_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_search_terms_complaint_id"))
    op.drop_table("case_search_terms")
    op.drop_table("case_sla_clocks")
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_case_messages_complaint_at")
    op.drop_table("case_messages")
    op.drop_table("case_files")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_team_sla_order")
        batch_op.drop_index("ix_cases_sla_order")
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("sla_state")
        batch_op.drop_column("sla_breached")
        batch_op.drop_column("sla_at_risk")
        batch_op.drop_column("sla_due_at")
