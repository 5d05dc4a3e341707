"""Open SLA clocks for the sla phase, written straight into sla-watch's ``clocks`` table.

Rows are built from ``sla_watch.db.Clock.__table__``: every non-nullable column gets a
value (the bench's own, else the column's Python default), nullable columns the bench does
not need are left out, so the loader follows the table as sla-watch's code defines it.

Every clock counts in the ``24x7`` calendar (seeded by sla-watch's migrations), so a clock's
thresholds are plain wall-clock offsets from its start and the bench can place them exactly:
a clock whose next threshold is ``percent`` % falling due at ``fire_at`` started
``target * percent / 100`` seconds before it, has sent every lower warning, and its
``next_fire_at`` is ``fire_at``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sla_watch.db import Clock
from sqlalchemy import JSON, Column

CALENDAR_ID = "24x7"
BREACH = 100
# Every target is a multiple of 100 s (each threshold an exact second) and at least 4 h, so
# consecutive thresholds of one clock lie >= 24 min apart: a clock placed in the bench's
# 10-minute downtime window owes exactly one event, and none owes a second one before the
# phase ends.
TARGETS_S = {
    "first_response": {"P1": 14_400, "P2": 28_800, "P3": 57_600, "P4": 86_400},
    "resolution": {"P1": 172_800, "P2": 259_200, "P3": 432_000, "P4": 864_000},
}
METRICS = ("first_response", "resolution")
PRIORITIES = ("P1", "P2", "P3", "P4")
THRESHOLDS = (50, 75, 90, BREACH)
_UUID_CLEAR = ~((0xF << 76) | (0xC << 60)) & ((1 << 128) - 1)
_UUID_V4 = (0x4 << 76) | (0x8 << 60)


@dataclass(frozen=True)
class PlacedClock:
    """One clock the bench expects an event from: which threshold, due when."""

    clock_id: str
    percent: int
    due: float  # epoch seconds


class ClockRows:
    """Builds ``clocks`` rows in the table's column order, ready for COPY."""

    def __init__(self, *, warning_percents: Sequence[int] = (50, 75, 90), seed: int = 7):
        self.table = Clock.__table__
        self.warning_percents = tuple(sorted(warning_percents))
        self.thresholds = (*self.warning_percents, BREACH)
        self._rng = random.Random(seed)
        self._complaint = ""
        self._serial = 0
        sample = self._values(datetime.now(UTC), BREACH, datetime.now(UTC))
        self.columns, self._fillers = _plan_columns(self.table.columns, sample)

    def _uuid(self) -> str:
        # A random version-4 UUID in canonical text, several times cheaper than uuid.UUID.
        n = self._rng.getrandbits(128) & _UUID_CLEAR | _UUID_V4
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _values(self, fire_at: datetime, percent: int, now: datetime) -> dict[str, Any]:
        # Two clocks per complaint (first response and resolution), as triage arms them.
        index = self._serial
        self._serial += 1
        if index % 2 == 0:
            self._complaint = self._uuid()
        metric = METRICS[index % 2]
        priority = PRIORITIES[(index // 2) % len(PRIORITIES)]
        target = TARGETS_S[metric][priority]
        started_at = fire_at - timedelta(seconds=target * percent // 100)
        return {
            "clock_id": self._uuid(),
            "complaint_id": self._complaint,
            "metric": metric,
            "priority": priority,
            "policy_id": f"bench-{priority}",
            "calendar_id": CALENDAR_ID,
            "target_seconds": target,
            "started_at": started_at,
            "due_at": started_at + timedelta(seconds=target),
            "paused_seconds": 0,
            "state": "running",
            "fired_percents": [p for p in self.warning_percents if p < percent],
            "breached": False,
            "next_fire_at": fire_at,
            "correlation_id": self._uuid(),
            "updated_at": now,
        }

    def row(self, fire_at: datetime, percent: int, now: datetime) -> tuple[Any, ...]:
        values = self._values(fire_at, percent, now)
        return tuple(fill(values) for fill in self._fillers)

    def rows(
        self, fire_times: Sequence[float], now: datetime
    ) -> tuple[list[tuple[Any, ...]], list[PlacedClock]]:
        """One clock per instant (epoch seconds), thresholds in turn 50 / 75 / 90 / breach."""
        rows, placed = [], []
        id_at = self.columns.index("clock_id")
        for i, at in enumerate(fire_times):
            percent = self.thresholds[i % len(self.thresholds)]
            row = self.row(datetime.fromtimestamp(at, UTC), percent, now)
            rows.append(row)
            placed.append(PlacedClock(clock_id=row[id_at], percent=percent, due=at))
        return rows, placed


def _plan_columns(
    columns: Any, sample: dict[str, Any]
) -> tuple[list[str], list[Callable[[dict[str, Any]], Any]]]:
    """Which columns COPY writes and how each value is made."""
    known = {c.name for c in columns}
    unknown = sorted(set(sample) - known)
    if unknown:
        raise RuntimeError(f"sla-watch's clocks table has no column(s) {unknown}")
    names: list[str] = []
    fillers: list[Callable[[dict[str, Any]], Any]] = []
    for column in columns:
        if column.name in sample:
            getter = _getter(column.name)
        elif column.nullable or column.server_default is not None:
            continue  # NULL, or the database's default
        elif column.default is not None:
            getter = _default_of(column)
        else:
            raise RuntimeError(
                f"clocks.{column.name} is NOT NULL without a default: the bench cannot fill it"
            )
        names.append(column.name)
        fillers.append(_as_json(getter) if _is_json(column) else getter)
    return names, fillers


def _getter(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda values: values[name]


def _default_of(column: Column[Any]) -> Callable[[dict[str, Any]], Any]:
    default: Any = column.default
    if default.is_callable:
        return lambda _values: default.arg(None)
    if default.is_scalar:
        return lambda _values: default.arg
    raise RuntimeError(f"clocks.{column.name}: a SQL default the bench cannot evaluate")


def _is_json(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON)


def _as_json(getter: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    # asyncpg's json codec takes the text; the few distinct values are encoded once each.
    texts: dict[str, str] = {}

    def encode(values: dict[str, Any]) -> str:
        value = getter(values)
        key = repr(value)
        text = texts.get(key)
        if text is None:
            text = texts[key] = json.dumps(value)
        return text

    return encode


def spread(count: int, *, first: float, rate_per_s: float) -> list[float]:
    """``count`` instants from ``first`` on, ``rate_per_s`` of them per second."""
    return [first + i / rate_per_s for i in range(count)]


async def copy_rows(
    conn: asyncpg.Connection,
    builder: ClockRows,
    fire_times: Iterator[list[float]],
    *,
    total: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """COPY the clocks of each chunk of instants (one transaction per chunk)."""
    built_s = copy_s = 0.0
    done = 0
    next_report = time.monotonic() + 5
    for chunk in fire_times:
        t0 = time.monotonic()
        rows, _ = builder.rows(chunk, datetime.now(UTC))
        t1 = time.monotonic()
        await conn.copy_records_to_table("clocks", records=rows, columns=builder.columns)
        t2 = time.monotonic()
        built_s += t1 - t0
        copy_s += t2 - t1
        done += len(rows)
        if progress is not None and (time.monotonic() >= next_report or done == total):
            progress(
                f"    {done:,} / {total:,} clocks ({100 * done / max(total, 1):.0f}%): "
                f"building rows {built_s:.1f} s, COPY {copy_s:.1f} s"
            )
            next_report = time.monotonic() + 5
    return {"rows": done, "build_s": round(built_s, 1), "copy_s": round(copy_s, 1)}


async def copy_placed(
    dsn: str, builder: ClockRows, fire_times: Sequence[float]
) -> list[PlacedClock]:
    """COPY a (small) set of clocks and return what each one owes."""
    rows, placed = builder.rows(fire_times, datetime.now(UTC))
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("clocks", records=rows, columns=builder.columns)
    finally:
        await conn.close()
    return placed


async def execute(dsn: str, *statements: str) -> list[Any]:
    """Run each statement: a SELECT gives its value, an EXPLAIN its plan on one line, others
    their status."""
    conn = await asyncpg.connect(dsn)
    results: list[Any] = []
    try:
        for statement in statements:
            if statement.lstrip().upper().startswith("EXPLAIN"):
                plan = await conn.fetch(statement)
                results.append(" / ".join(row[0].strip() for row in plan))
            elif statement.lstrip().upper().startswith("SELECT"):
                results.append(await conn.fetchval(statement))
            else:
                results.append(await conn.execute(statement))
    finally:
        await conn.close()
    return results
