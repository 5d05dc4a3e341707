"""Reading a complaint's clocks and the clocks at risk (the read API's use cases).

Business time is counted under each clock's own calendar, the one its deadline uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from complaint_runtime.database import Database
from complaint_runtime.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.clocks.domain import clock as clock_rules
from sla_watch.clocks.domain.visibility import ClocksSeen
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ClockRepository, ComplaintSlaRepository
from sla_watch.policies.domain.terms import UnknownCalendarError


@dataclass(frozen=True)
class ClockReading:
    """A clock with the business time it counted by the time of reading, under its own
    calendar (the one its deadline uses); None when that calendar no longer exists."""

    clock: Clock
    elapsed_seconds: int | None

    @property
    def remaining_seconds(self) -> int | None:
        """Business seconds left until the deadline; negative once overdue."""
        if self.elapsed_seconds is None:
            return None
        return self.clock.target_seconds - self.elapsed_seconds


@dataclass(frozen=True)
class ComplaintClocks:
    complaint_id: str
    escalation_level: int
    clocks: list[ClockReading]


class _Calendars:
    """The calendars one reading needs, each asked of the terms source once."""

    def __init__(self, settings: ClockSettings, session: AsyncSession):
        self._settings = settings
        self._session = session
        self._found: dict[str, BusinessCalendar | None] = {}

    async def read(self, clock: Clock, now: datetime) -> ClockReading:
        if clock.calendar_id not in self._found:
            try:
                found: BusinessCalendar | None = await self._settings.calendar_of(
                    self._session, clock
                )
            except UnknownCalendarError:
                found = None
            self._found[clock.calendar_id] = found
        calendar = self._found[clock.calendar_id]
        if calendar is None:
            return ClockReading(clock, None)
        return ClockReading(
            clock, clock_rules.elapsed_seconds(clock.view(), now, calendar=calendar)
        )


async def complaint_clocks(
    *,
    database: Database,
    settings: ClockSettings,
    complaint_id: str,
    limit: int,
    seen_by: ClocksSeen,
) -> ComplaintClocks:
    """The complaint's clocks (at most ``limit``) and its escalation level; NotFound when it
    has none (not triaged yet?) or when ``seen_by`` does not admit its team (the same
    answer: it must not tell that the complaint exists)."""
    now = datetime.now(UTC)
    async with database.sessions() as session:
        clocks = await ClockRepository(session).of_complaint(complaint_id, limit=limit)
        row = await ComplaintSlaRepository(session).get(complaint_id) if clocks else None
        # The complaint's team now; before its facts row exists, the newest clock's team.
        team = row.team if row is not None else (clocks[-1].team if clocks else None)
        if not clocks or not seen_by.admits(team):
            raise NotFound(
                "sla-watch has no clock for this complaint; it may not be triaged yet.",
                title="No clocks for this complaint",
            )
        calendars = _Calendars(settings, session)
        readings = [await calendars.read(clock, now) for clock in clocks]
    return ComplaintClocks(
        complaint_id=complaint_id,
        escalation_level=row.escalation_level if row is not None else 0,
        clocks=readings,
    )


async def clocks_at_risk(
    *,
    database: Database,
    settings: ClockSettings,
    limit: int,
    teams: Sequence[str] | None,
    priority: str | None,
    metric: str | None,
) -> list[ClockReading]:
    """Running clocks not breached yet, soonest deadline first (of these teams, or all)."""
    now = datetime.now(UTC)
    async with database.sessions() as session:
        clocks = await ClockRepository(session).at_risk(
            limit=limit,
            teams=teams,
            priorities=None if priority is None else [priority],
            metric=metric,
        )
        calendars = _Calendars(settings, session)
        return [await calendars.read(clock, now) for clock in clocks]
