"""Working intervals of one day: parsing, validation and formatting of ``"09:00-12:00"``.

An interval is held as seconds after local midnight, start inclusive, end exclusive, so
``00:00-24:00`` is the whole day. :mod:`sla_watch.calendars.domain.business_calendar` builds its
calendars from these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

DAY_S = 86_400

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True, order=True)
class WorkingInterval:
    """Working time from ``start`` to ``end`` seconds after local midnight (end exclusive,
    at most 86 400 = 24:00)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_S:
            raise ValueError(f"need 00:00 <= start < end <= 24:00, got {self.start}..{self.end}")

    @classmethod
    def parse(cls, text: str) -> WorkingInterval:
        """``"09:00-12:00"``, ``"13:30:00–18:00"`` or ``"00:00-24:00"``."""
        parts = re.split(r"\s*[-–]\s*", text.strip())
        if len(parts) != 2:
            raise ValueError(f"working interval must look like 09:00-12:00, got {text!r}")
        return cls(_parse_time(parts[0]), _parse_time(parts[1]))

    def __str__(self) -> str:
        return f"{_format_time(self.start)}-{_format_time(self.end)}"

    @property
    def seconds(self) -> int:
        return self.end - self.start


Intervals = tuple[WorkingInterval, ...]
IntervalSpec = str | WorkingInterval


def _parse_time(text: str) -> int:
    match = _TIME_RE.match(text)
    if not match:
        raise ValueError(f"time must look like HH:MM or HH:MM:SS, got {text!r}")
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and minutes + seconds):
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 3600 + minutes * 60 + seconds


def _format_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def intervals(*specs: IntervalSpec) -> Intervals:
    """Sorted, validated working intervals of one day; overlapping intervals are refused,
    touching ones (12:00-13:00, 13:00-14:00) are fine."""
    parsed = sorted(
        s if isinstance(s, WorkingInterval) else WorkingInterval.parse(s) for s in specs
    )
    for before, after in pairwise(parsed):
        if after.start < before.end:
            raise ValueError(f"working intervals overlap: {before} and {after}")
    return tuple(parsed)


def as_intervals(value: Iterable[IntervalSpec]) -> Intervals:
    """One interval spec, or several, as validated :data:`Intervals`."""
    if isinstance(value, str | WorkingInterval):
        return intervals(value)
    return intervals(*value)
