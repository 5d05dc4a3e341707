"""Human references: ``C-YYYYMMDD-NNNNNN``, numbered per day in the service's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

REFERENCE_ZONE = ZoneInfo("Asia/Shanghai")


def reference_day(now: datetime) -> date:
    """The day whose counter numbers a complaint received at ``now`` (Asia/Shanghai)."""
    return now.astimezone(REFERENCE_ZONE).date()


def format_reference(day: date, number: int) -> str:
    """Six digits while the day has under a million complaints; more digits after that."""
    return f"C-{day:%Y%m%d}-{number:06d}"
