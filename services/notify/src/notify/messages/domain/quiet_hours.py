"""Quiet hours (requirements §8): no non-urgent SMS to a customer between 22:00 and 08:00 in
the customer's time zone; such a message is held and goes out when the quiet hours end.

Urgent messages go at once: anything about a P1 complaint, and security notices (a
lost-link code the customer asked for a moment ago). E-mail is not held (it waits in the
mailbox, it does not ring), nor are staff robots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SECURITY_TEMPLATES: Final = frozenset({"tracking_code"})
URGENT_PRIORITIES: Final = frozenset({"P1"})
HELD_CHANNELS: Final = frozenset({"sms"})
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietHours:
    """From ``start`` to ``end`` local time; ``start > end`` spans midnight (22:00-08:00)."""

    start: time
    end: time

    def covers(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_quiet_hours(text: str) -> QuietHours | None:
    """``"22:00-08:00"``; empty: no quiet hours. Raises ``ValueError`` for anything else."""
    if not text.strip():
        return None
    match = _SPAN.match(text)
    if match is None:
        raise ValueError(f"quiet hours must look like 22:00-08:00, not {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"quiet hours {text!r}: not a time of day")
    if (h1, m1) == (h2, m2):
        raise ValueError(f"quiet hours {text!r}: start and end are the same")
    return QuietHours(time(h1, m1), time(h2, m2))


def zone_of(name: str | None, *, default: str) -> ZoneInfo:
    """The customer's zone; an unknown or missing one is ``default``'s."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def is_urgent(*, template: str, priority: str | None) -> bool:
    return template in SECURITY_TEMPLATES or priority in URGENT_PRIORITIES


def held_until(
    *,
    now: datetime,
    quiet: QuietHours | None,
    zone: ZoneInfo,
    channel: str,
    template: str,
    priority: str | None,
) -> datetime | None:
    """When a message may go out, if it must wait for the quiet hours to end (UTC); None
    when it may go now."""
    if (
        quiet is None
        or channel not in HELD_CHANNELS
        or is_urgent(template=template, priority=priority)
    ):
        return None
    local = now.astimezone(zone)
    if not quiet.covers(local.time()):
        return None
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    # Through UTC: a wall-clock time made on a DST-changing day is resolved by zoneinfo.
    return end.astimezone(UTC)
