"""calendars, calendar days, policies and recompute jobs; seeds cn-mainland and the §4 matrix

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sla_watch.calendars.domain.holidays_cn import CN_DEFAULT_HOURS, CN_TIME_ZONE, china_holidays

CN_MAINLAND_ID = "cn-mainland"
TWENTY_FOUR_SEVEN_ID = "24x7"
# The §4 matrix as read in sla_watch.domain.policy: P1 24×7 in seconds; P2-P4 in business
# seconds of cn-mainland, a working day being 7.5 h (27 000 s).
DEFAULT_POLICIES = (  # priority, calendar, first/next response, resolution
    ("P1", TWENTY_FOUR_SEVEN_ID, 7_200, 86_400),
    ("P2", CN_MAINLAND_ID, 14_400, 54_000),
    ("P3", CN_MAINLAND_ID, 27_000, 81_000),
    ("P4", CN_MAINLAND_ID, 54_000, 135_000),
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_JOB = sa.text("state IN ('pending', 'running')")


def upgrade() -> None:
    calendars = op.create_table(
        "sla_calendars",
        sa.Column("calendar_id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("makeup_hours", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("calendar_id", name=op.f("pk_sla_calendars")),
    )
    days = op.create_table(
        "sla_calendar_days",
        sa.Column("calendar_id", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("intervals", sa.JSON(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["sla_calendars.calendar_id"],
            name=op.f("fk_sla_calendar_days_calendar_id_sla_calendars"),
        ),
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_sla_calendar_days")),
    )
    policies = op.create_table(
        "sla_policies",
        sa.Column("policy_id", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("calendar_id", sa.String(length=60), nullable=False),
        sa.Column("first_response_s", sa.Integer(), nullable=False),
        sa.Column("next_response_s", sa.Integer(), nullable=False),
        sa.Column("resolution_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["sla_calendars.calendar_id"],
            name=op.f("fk_sla_policies_calendar_id_sla_calendars"),
        ),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_sla_policies")),
    )
    version = op.create_table(
        "sla_config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_config_version")),
    )
    op.create_table(
        "sla_recompute_jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("calendar_id", sa.String(length=60), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("cursor", sa.String(length=36), nullable=True),
        sa.Column("clocks_seen", sa.Integer(), nullable=False),
        sa.Column("clocks_moved", sa.Integer(), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_recompute_jobs")),
    )
    op.create_index(
        "ix_sla_recompute_jobs_open",
        "sla_recompute_jobs",
        ["id"],
        postgresql_where=_OPEN_JOB,
        sqlite_where=_OPEN_JOB,
    )

    # Seed data is written out here (not read from the ORM models), so this revision keeps
    # producing the same rows whatever later code does. The holidays come from the
    # chinese-calendar package installed when the migration runs (2004-2026 in 1.11); later
    # years are added by an admin (PUT .../days/{date} or an .ics import).
    now = datetime.now(UTC)
    op.bulk_insert(
        calendars,
        [
            {
                "calendar_id": TWENTY_FOUR_SEVEN_ID,
                "name": "24×7 (every second counts)",
                "time_zone": CN_TIME_ZONE,
                "weekly": [["00:00-24:00"]] * 7,
                "makeup_hours": None,
                "updated_at": now,
            },
            {
                "calendar_id": CN_MAINLAND_ID,
                "name": "Mainland China business hours (holidays and make-up working days)",
                "time_zone": CN_TIME_ZONE,
                "weekly": [list(CN_DEFAULT_HOURS)] * 5 + [[], []],
                "makeup_hours": list(CN_DEFAULT_HOURS),
                "updated_at": now,
            },
        ],
    )
    schedule = china_holidays()
    op.bulk_insert(
        days,
        [
            {
                "calendar_id": CN_MAINLAND_ID,
                "day": day,
                "kind": kind,
                "intervals": None,
                "name": name[:200],
                "source": "chinese-calendar",
            }
            for kind, table in (
                ("holiday", schedule.holidays),
                ("makeup_workday", schedule.makeup_workdays),
            )
            for day, name in table.items()
        ],
    )
    op.bulk_insert(
        policies,
        [
            {
                "policy_id": f"default-{priority}",
                "position": position,
                "name": f"{priority} default (§4 matrix)",
                "priority": priority,
                "category": None,
                "tier": None,
                "channel": None,
                "calendar_id": calendar_id,
                "first_response_s": response_s,
                "next_response_s": response_s,
                "resolution_s": resolution_s,
                "enabled": True,
                "updated_at": now,
            }
            for position, (priority, calendar_id, response_s, resolution_s) in enumerate(
                DEFAULT_POLICIES, start=1
            )
        ],
    )
    op.bulk_insert(version, [{"id": 1, "version": 1, "updated_at": now}])


def downgrade() -> None:
    op.drop_index("ix_sla_recompute_jobs_open", table_name="sla_recompute_jobs")
    op.drop_table("sla_recompute_jobs")
    op.drop_table("sla_config_version")
    op.drop_table("sla_policies")
    op.drop_table("sla_calendar_days")
    op.drop_table("sla_calendars")
