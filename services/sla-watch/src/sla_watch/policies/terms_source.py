"""Where a new clock's terms come from: the matching policy's target and its calendar.

The clock use cases ask a :class:`TermsSource`; the running service uses
:class:`StoredTerms` (the policies and calendars tables, cached per configuration version),
unit tests of the clock use cases may use :class:`StaticTerms` (targets by priority, 24×7).

:class:`StoredTerms` reads one integer (``sla_config_version``) per transaction, once; only
when it changed are the policies reloaded and the calendars dropped, each calendar being
rebuilt on its next use. Building ``cn-mainland`` (two decades of holidays) costs one SELECT
of its ~900 days and a few milliseconds, so it happens once per admin change, not once per
clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.calendars.db import CalendarRepository
from sla_watch.calendars.domain.business_calendar import WorkingCalendar
from sla_watch.calendars.domain.calendar import TWENTY_FOUR_SEVEN, BusinessCalendar
from sla_watch.policies.db import PolicyRepository
from sla_watch.policies.domain.policy import Metric, Policy, first_match
from sla_watch.policies.domain.terms import ClockTerms, ComplaintFacts, UnknownCalendarError


class TermsSource(Protocol):
    async def terms(
        self, session: AsyncSession, *, metric: Metric, facts: ComplaintFacts
    ) -> ClockTerms:
        """The first policy matching ``facts`` gives the target of ``metric`` and the
        calendar it counts in."""
        ...

    async def calendar(self, session: AsyncSession, calendar_id: str) -> BusinessCalendar:
        """The calendar of that id as it is now; raises :class:`UnknownCalendarError`."""
        ...


@dataclass(frozen=True)
class StaticTerms:
    """Targets by priority from fixed tables, every clock 24×7 (for tests of the use cases)."""

    first_response: Mapping[str, int]
    resolution: Mapping[str, int]
    next_response: Mapping[str, int] | None = None

    async def terms(
        self, _session: AsyncSession, *, metric: Metric, facts: ComplaintFacts
    ) -> ClockTerms:
        table = {
            "first_response": self.first_response,
            "next_response": self.next_response or self.first_response,
            "resolution": self.resolution,
        }[metric]
        return ClockTerms(
            target_seconds=table[facts.priority],
            policy_id=f"default-{facts.priority}",
            calendar=TWENTY_FOUR_SEVEN,
        )

    async def calendar(self, _session: AsyncSession, calendar_id: str) -> BusinessCalendar:
        if calendar_id != TWENTY_FOUR_SEVEN.calendar_id:
            raise UnknownCalendarError(calendar_id)
        return TWENTY_FOUR_SEVEN


@dataclass
class _Snapshot:
    version: int
    policies: tuple[Policy, ...]
    calendars: dict[str, WorkingCalendar] = field(default_factory=dict)


class StoredTerms:
    """Clock terms from the ``sla_policies`` and ``sla_calendars`` tables, cached per
    configuration version (one object per process: the service's dependencies hold it)."""

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self.loads = 0  # how many times policies were (re)loaded: for tests and metrics
        self.builds = 0  # how many calendars were built

    async def _current(self, session: AsyncSession) -> _Snapshot:
        policies = PolicyRepository(session)
        version = await policies.version_of_transaction()
        snapshot = self._snapshot
        if snapshot is None or snapshot.version != version:
            # Read after the version: if a change commits in between, the snapshot holds
            # newer data under the older number and the next call simply reloads.
            snapshot = _Snapshot(version=version, policies=tuple(await policies.policies()))
            self._snapshot = snapshot
            self.loads += 1
        return snapshot

    async def terms(
        self, session: AsyncSession, *, metric: Metric, facts: ComplaintFacts
    ) -> ClockTerms:
        snapshot = await self._current(session)
        policy = first_match(snapshot.policies, facts)
        calendar = await self._calendar(session, snapshot, policy.calendar_id)
        return ClockTerms(
            target_seconds=policy.target(metric), policy_id=policy.policy_id, calendar=calendar
        )

    async def calendar(self, session: AsyncSession, calendar_id: str) -> WorkingCalendar:
        return await self._calendar(session, await self._current(session), calendar_id)

    async def _calendar(
        self, session: AsyncSession, snapshot: _Snapshot, calendar_id: str
    ) -> WorkingCalendar:
        built = snapshot.calendars.get(calendar_id)
        if built is None:
            built = await CalendarRepository(session).load_calendar(calendar_id)
            if built is None:
                raise UnknownCalendarError(calendar_id)
            snapshot.calendars[calendar_id] = built
            self.builds += 1
        return built
