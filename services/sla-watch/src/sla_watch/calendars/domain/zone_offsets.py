"""Instants as integer microseconds since the Unix epoch, and the UTC offsets of a
tz-database zone over them, with its offset changes located to the second.

Business-time arithmetic (:mod:`sla_watch.calendars.domain.business_calendar`) works on integers so
that it is exact to the microsecond; this module converts aware datetimes to and from that
timeline and tells which UTC offset (hence which wall clock) applies where.

Offset changes of a zone are found by sampling the offset every 6 hours and bisecting to
the second (tz-database transitions are whole seconds). This is exact as long as two offset
changes of one zone are more than 6 hours apart; in tzdata 2026 the closest pair of
offset changes in any zone is about 4 days apart (Africa/Freetown, 1939).
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

US = 1_000_000  # microseconds per second
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_SAMPLE_S = 6 * 3600  # offset sampling step, see the module docstring


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business calendars need timezone-aware datetimes")
    return (moment - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    """The UTC datetime ``us`` microseconds after the epoch."""
    return EPOCH + timedelta(microseconds=us)


class ZoneOffsets:
    """UTC offsets of one zone, with its offset changes located to the second."""

    def __init__(self, key: str) -> None:
        self.zone = ZoneInfo(key)
        self._years: dict[int, tuple[list[int], list[int]]] = {}

    def offset_s(self, t: int) -> int:
        """UTC offset in seconds at the UTC second ``t``."""
        local = (EPOCH + timedelta(seconds=t)).astimezone(self.zone)
        offset = local.utcoffset()
        if offset is None:  # never for a ZoneInfo-aware datetime; keeps the type exact
            raise ValueError(f"no UTC offset in {self.zone.key} at {t}")
        return offset // timedelta(seconds=1)

    def _changes(self, year: int) -> tuple[list[int], list[int]]:
        """(seconds at which the offset changes, offset from then on) within a UTC year."""
        found = self._years.get(year)
        if found is not None:
            return found
        first = (datetime(year, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(seconds=1)
        last = (datetime(year + 1, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(seconds=1)
        times: list[int] = []
        offsets: list[int] = []
        prev_t = first - 1
        prev = self.offset_s(prev_t)
        t = prev_t
        while t < last - 1:
            t = min(t + _SAMPLE_S, last - 1)
            current = self.offset_s(t)
            if current != prev:
                lo, hi = prev_t, t  # offset(lo) == prev, offset(hi) == current
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self.offset_s(mid) == prev:
                        lo = mid
                    else:
                        hi = mid
                times.append(hi)
                offsets.append(current)
            prev_t, prev = t, current
        self._years[year] = (times, offsets)
        return times, offsets

    def next_change(self, after_s: int, until_s: int) -> int | None:
        """The first offset change at a second in ``(after_s, until_s]``, if any."""
        year = from_us(after_s * US).year
        while True:
            times, _ = self._changes(year)
            i = bisect.bisect_right(times, after_s)
            if i < len(times):
                return times[i] if times[i] <= until_s else None
            year += 1
            if (datetime(year, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(seconds=1) > until_s:
                return None

    def segments(self, lo_us: int, hi_us: int) -> list[tuple[int, int, int]]:
        """``[lo_us, hi_us)`` cut where the offset changes: ``(from, to, offset_us)``."""
        lo_s = lo_us // US
        offset = self.offset_s(lo_s) * US
        out: list[tuple[int, int, int]] = []
        cursor = lo_us
        year = from_us(lo_us).year
        last_year = from_us(hi_us - 1).year
        while year <= last_year:
            times, offsets = self._changes(year)
            for i in range(bisect.bisect_right(times, lo_s), len(times)):
                change_us = times[i] * US
                if change_us >= hi_us:
                    break
                out.append((cursor, change_us, offset))
                cursor, offset = change_us, offsets[i] * US
            year += 1
        out.append((cursor, hi_us, offset))
        return out


@lru_cache(maxsize=128)
def zone_offsets(key: str) -> ZoneOffsets:
    """One shared (cached) :class:`ZoneOffsets` per zone key."""
    return ZoneOffsets(key)
