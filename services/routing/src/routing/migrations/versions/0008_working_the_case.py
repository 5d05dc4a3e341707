"""working the case: case versions, review tasks, canned replies

cases.version: one more with every change to the case (stale-form protection: a command
with an older If-Match is refused); existing cases start at 1. case_actions.case_version:
the case's version once the entry was written (NULL for the history before this
migration). tasks: work items on a case (kind review_reopen: the team lead reviews a
reopened case), unique per kind, case and the event that caused them. canned_replies:
administrators' ready-made answers per category (NULL: any) and language. Internal notes
need no table: they are case_messages of kind 'note'.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_version", sa.Integer(), nullable=True))

    op.create_table(
        "tasks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("complaint_id", sa.String(length=36), nullable=False),
        sa.Column("team", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("source_event_id", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=200), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["cases.complaint_id"], name=op.f("fk_tasks_complaint_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("kind", "complaint_id", "source_event_id", name=op.f("uq_tasks_kind")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_assignee"), ["assignee"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_complaint_id"), ["complaint_id"], unique=False)
        batch_op.create_index("ix_tasks_due_order", ["due_at", "id"], unique=False)
        batch_op.create_index("ix_tasks_team_due_order", ["team", "due_at", "id"], unique=False)

    op.create_table(
        "canned_replies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_canned_replies_category_language", ["category", "language"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_canned_replies_category_language")
    op.drop_table("canned_replies")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_team_due_order")
        batch_op.drop_index("ix_tasks_due_order")
        batch_op.drop_index(batch_op.f("ix_tasks_complaint_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_assignee"))
    op.drop_table("tasks")
    with op.batch_alter_table("case_actions", schema=None) as batch_op:
        batch_op.drop_column("case_version")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("version")
