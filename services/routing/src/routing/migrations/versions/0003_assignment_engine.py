"""assignment engine: teams, agent skills and availability, team queues, transfers

Teams own categories through ``team_categories``, seeded with the built-in table so that
existing routing stays as it was. Agents get skills (categories, languages; empty: all),
an availability and ``open_load``, the counter of their open cases, recounted here from the
cases. Cases get ``queued_at``: set while they wait in their team's queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The built-in ownership of routing.domain.teams at the time of this revision (copied: a
# migration must not change when the code does).
OWNERSHIP = {
    "product_quality": "quality",
    "service_attitude": "service",
    "delivery_logistics": "logistics",
    "billing_refund": "billing",
    "privacy_data_leak": "privacy",
    "technical_fault": "tech-support",
    "process_policy": "policy",
    "other": "general",
}
ACTIVE = ("triaged", "assigned", "in_progress", "awaiting_customer", "reopened")


def upgrade() -> None:
    teams = op.create_table(
        "teams",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    team_categories = op.create_table(
        "team_categories",
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("team", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["team"], ["teams.id"], name=op.f("fk_team_categories_team_teams")),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_team_categories")),
    )
    with op.batch_alter_table("team_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_categories_team"), ["team"], unique=False)
    op.create_table(
        "account_managers",
        sa.Column("customer_ref", sa.String(length=100), nullable=False),
        sa.Column("agent_id", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_account_managers_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("customer_ref", name=op.f("pk_account_managers")),
    )
    with op.batch_alter_table("account_managers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_managers_agent_id"), ["agent_id"], unique=False
        )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("categories", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("languages", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("availability", sa.String(length=8), server_default="online", nullable=False)
        )
        batch_op.add_column(
            sa.Column("open_load", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_cases_team_queue", ["team", "queued_at"], unique=False)

    now = sa.func.now()
    existing_teams = sorted(set(OWNERSHIP.values()))
    for team in existing_teams:
        op.execute(teams.insert().values(id=team, name=team, updated_at=now))
    op.bulk_insert(team_categories, [{"category": c, "team": t} for c, t in OWNERSHIP.items()])
    # Teams named by agents but not by the built-in table.
    op.execute(
        sa.text(
            "INSERT INTO teams (id, name, updated_at) "
            "SELECT DISTINCT team, team, CURRENT_TIMESTAMP FROM agents "
            "WHERE team NOT IN (SELECT id FROM teams)"
        )
    )
    active = ", ".join(f"'{s}'" for s in ACTIVE)
    op.execute(
        sa.text(
            "UPDATE agents SET open_load = (SELECT count(*) FROM cases "
            f"WHERE cases.assignee = agents.id AND cases.status IN ({active}))"
        )
    )
    op.execute(
        sa.text(
            "UPDATE cases SET queued_at = updated_at "
            f"WHERE assignee IS NULL AND team IS NOT NULL AND status IN ({active})"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_team_queue")
        batch_op.drop_column("queued_at")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")
        batch_op.drop_column("open_load")
        batch_op.drop_column("availability")
        batch_op.drop_column("languages")
        batch_op.drop_column("categories")
    with op.batch_alter_table("account_managers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_managers_agent_id"))
    op.drop_table("account_managers")
    with op.batch_alter_table("team_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_categories_team"))
    op.drop_table("team_categories")
    op.drop_table("teams")
