"""The :class:`~sla_watch.clock_setup.ClockSetup` of the running service: policies and
calendars from the database, cached per configuration version.

Each transaction reads one integer (``sla_config_version``), once; only when it changed are
the policies reloaded and the calendars dropped, each calendar being rebuilt on its next
use. Building ``cn-mainland`` (two decades of holidays) costs one SELECT of its ~900 days and a few
milliseconds, so it happens once per admin change, not once per clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog
from complaint_runtime.database import Database, utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.clock_setup import ClockTerms, ComplaintFacts, Metric, UnknownCalendarError
from sla_watch.domain.business_calendar import WorkingCalendar
from sla_watch.domain.policy import Policy, first_match, validate_policies
from sla_watch.setup_db import ConfigRepository, JobReason, JobRepository, RecomputeJob

log = structlog.get_logger(__name__)


@dataclass
class _Snapshot:
    version: int
    policies: tuple[Policy, ...]
    calendars: dict[str, WorkingCalendar] = field(default_factory=dict)


class DatabaseSetup:
    """Clock terms from the ``sla_policies`` and ``sla_calendars`` tables."""

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self.loads = 0  # how many times policies were (re)loaded: for tests and metrics
        self.builds = 0  # how many calendars were built

    async def _current(self, session: AsyncSession) -> _Snapshot:
        config = ConfigRepository(session)
        version = await _version_of_transaction(session)
        snapshot = self._snapshot
        if snapshot is None or snapshot.version != version:
            # Read after the version: if a change commits in between, the snapshot holds
            # newer data under the older number and the next call simply reloads.
            snapshot = _Snapshot(version=version, policies=tuple(await config.policies()))
            self._snapshot = snapshot
            self.loads += 1
        return snapshot

    async def policies(self, session: AsyncSession) -> tuple[Policy, ...]:
        return (await self._current(session)).policies

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
            built = await ConfigRepository(session).load_calendar(calendar_id)
            if built is None:
                raise UnknownCalendarError(calendar_id)
            snapshot.calendars[calendar_id] = built
            self.builds += 1
        return built


_VERSION_KEY = "sla_config_version"


async def _version_of_transaction(session: AsyncSession) -> int:
    """The config version, read once per transaction: a consumer batch or a firing round
    arms and fires hundreds of clocks, and one SELECT each was a round trip per clock. A
    change committed meanwhile is seen from the next transaction on (as before, a clock
    armed between the read and the commit keeps the terms read; the window is now one
    transaction long instead of one clock's)."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_VERSION_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return int(cached[1])
    version = await ConfigRepository(session).version()
    session.info[_VERSION_KEY] = (session.sync_session.get_transaction(), version)
    return version


async def record_change(
    session: AsyncSession, *, reason: JobReason, calendar_id: str | None
) -> RecomputeJob:
    """Bump the config version and queue the recompute of the affected open clocks, in the
    caller's transaction (the one making the change)."""
    version = await ConfigRepository(session).bump_version()
    session.info.pop(_VERSION_KEY, None)  # this transaction now sees the new version
    return await JobRepository(session).enqueue(
        reason=reason, calendar_id=calendar_id, config_version=version
    )


async def apply_target_overrides(
    database: Database,
    *,
    first_response: Mapping[str, int] | None,
    resolution: Mapping[str, int] | None,
) -> bool:
    """Development and test override (settings ``SLA_FIRST_RESPONSE_TARGETS_S`` /
    ``SLA_RESOLUTION_TARGETS_S``): set the targets of the ``default-Px`` policies at start.
    Returns whether anything changed (then the open clocks are recomputed)."""
    if not first_response and not resolution:
        return False
    async with database.unit_of_work() as uow:
        config = ConfigRepository(uow.session)
        changed: list[str] = []
        for priority in sorted({*(first_response or {}), *(resolution or {})}):
            row = await config.policy_row(f"default-{priority}")
            if row is None:
                log.warning("no default policy to override", priority=priority)
                continue
            before = (row.first_response_s, row.resolution_s)
            if first_response and priority in first_response:
                row.first_response_s = first_response[priority]
            if resolution and priority in resolution:
                row.resolution_s = resolution[priority]
            if (row.first_response_s, row.resolution_s) != before:
                row.updated_at = utcnow()
                changed.append(priority)
        if not changed:
            return False
        validate_policies(await config.policies())
        await record_change(uow.session, reason="policy_changed", calendar_id=None)
        log.info("default policy targets overridden from settings", priorities=changed)
    return True
