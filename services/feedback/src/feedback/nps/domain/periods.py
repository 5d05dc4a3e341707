"""NPS periods and the schedule that makes them (``NPS_SCHEDULE``).

A period is a half-open interval ``[start, end)`` with a key that names it in events and
in the one-request-per-customer rule. The default schedule is ``monthly``: calendar
months in the organisation's time zone (a customer in Shanghai whose complaint closed at
00:30 on 1 December, local time, belongs to December although it was still November in
UTC), keyed ``2026-11``. A fixed length (``30s``, ``12h``, ``7d``) gives consecutive
periods counted from the Unix epoch in UTC, keyed as ISO 8601 intervals
(``2026-11-23T09:30:00Z/2026-11-23T09:30:30Z``): development and tests run rounds in
seconds that way. ``off`` runs no round by itself (an operator may still ask for one).

Periods tile time: each instant is in exactly one period of a schedule, and a period's
end is the next one's start, so no closure is counted twice or missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final, Literal

UNITS: Final[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_FIXED: Final = re.compile(r"^([1-9][0-9]{0,8})([smhd])$")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_WINDOW: Final = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Monthly:
    """Calendar months in the organisation's zone."""

    kind: Literal["monthly"] = "monthly"


@dataclass(frozen=True, slots=True)
class Fixed:
    """Periods of ``seconds`` each, counted from the Unix epoch (UTC)."""

    seconds: int
    kind: Literal["fixed"] = "fixed"


@dataclass(frozen=True, slots=True)
class Off:
    """No round runs by itself."""

    kind: Literal["off"] = "off"


Schedule = Monthly | Fixed | Off


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def parse_schedule(text: str) -> Schedule:
    """``monthly``, ``off`` or a fixed length (``30s``, ``15m``, ``12h``, ``7d``);
    ValueError for anything else (a mistake is refused at start, not run as something)."""
    value = text.strip().lower()
    if value == "monthly":
        return Monthly()
    if value in ("off", "none", ""):
        return Off()
    match = _FIXED.match(value)
    if match is None:
        raise ValueError(f"NPS_SCHEDULE {text!r}: use monthly, off or a length like 30s, 7d")
    return Fixed(int(match.group(1)) * UNITS[match.group(2)])


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def interval_key(start: datetime, end: datetime) -> str:
    return f"{_utc_text(start)}/{_utc_text(end)}"


def window(start: datetime, end: datetime) -> Period:
    """A period an operator names (whole seconds, UTC); ValueError unless it is a
    non-empty interval of at most a year."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a period's start and end need their UTC offset")
    start = start.astimezone(UTC).replace(microsecond=0)
    end = end.astimezone(UTC).replace(microsecond=0)
    if not start < end:
        raise ValueError("a period ends after it starts")
    if end - start > MAX_WINDOW:
        raise ValueError("a period is at most a year long")
    return Period(interval_key(start, end), start, end)


def _month_start(year: int, month: int, zone: tzinfo) -> datetime:
    return datetime(year, month, 1, tzinfo=zone).astimezone(UTC)


def _month(year: int, month: int, zone: tzinfo) -> Period:
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return Period(
        f"{year:04d}-{month:02d}",
        _month_start(year, month, zone),
        _month_start(next_year, next_month, zone),
    )


def period_containing(schedule: Monthly | Fixed, moment: datetime, zone: tzinfo) -> Period:
    """The period of ``schedule`` that ``moment`` (aware) falls in."""
    if isinstance(schedule, Monthly):
        local = moment.astimezone(zone)
        return _month(local.year, local.month, zone)
    elapsed = (moment - _EPOCH) // timedelta(seconds=schedule.seconds)
    start = _EPOCH + timedelta(seconds=elapsed * schedule.seconds)
    end = start + timedelta(seconds=schedule.seconds)
    return Period(interval_key(start, end), start, end)


class PartialPeriod(ValueError):
    """A named window that covers part of a scheduled period: its customers would be
    asked under a second key, the period's own round asking them again."""


def named_period(schedule: Schedule, start: datetime, end: datetime, zone: tzinfo) -> Period:
    """The period an operator names: the schedule's own period (its key, e.g. ``2026-11``)
    when the window is exactly one, so a missed month re-run asks nobody twice; otherwise
    the window (:func:`window`), provided it does not cut a scheduled period
    (:class:`PartialPeriod`). ValueError as :func:`window`."""
    named = window(start, end)
    if isinstance(schedule, Off):
        return named
    first = period_containing(schedule, named.start, zone)
    if (first.start, first.end) == (named.start, named.end):
        return first
    last = period_containing(schedule, named.end - timedelta(microseconds=1), zone)
    if first.start != named.start or last.end != named.end:
        raise PartialPeriod(
            f"the period {named.key} covers part of the scheduled period "
            f"{(first if first.start != named.start else last).key}: name whole periods"
        )
    return named


def latest_ended(schedule: Schedule, now: datetime, zone: tzinfo) -> Period | None:
    """The most recent period of ``schedule`` that has ended at ``now`` (None: ``off``)."""
    if isinstance(schedule, Off):
        return None
    current = period_containing(schedule, now, zone)
    return period_containing(schedule, current.start - timedelta(microseconds=1), zone)
