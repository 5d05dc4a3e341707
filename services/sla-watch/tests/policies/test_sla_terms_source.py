"""The seeded calendars and policies, and StoredTerms' cache keyed by the config version."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from complaint_runtime.database import Database
from sla_watch.calendars.db import CalendarRepository
from sla_watch.calendars.domain.holidays_cn import china_calendar, china_holidays
from sla_watch.policies.db import PolicyRepository, SlaPolicy
from sla_watch.policies.domain.policy import DEFAULT_POLICIES, InvalidPolicySetError
from sla_watch.policies.domain.terms import ComplaintFacts, UnknownCalendarError
from sla_watch.policies.service import apply_target_overrides
from sla_watch.policies.terms_source import StoredTerms
from sla_watch.recompute.db import JobRepository
from sla_watch.recompute.service import queue_recompute
from sqlalchemy import select


async def test_the_migration_seeds_cn_mainland_and_the_default_matrix(database: Database) -> None:
    async with database.sessions() as session:
        calendars = CalendarRepository(session)
        policies = PolicyRepository(session)
        assert await policies.version() == 1
        assert await calendars.calendar_ids() == {"24x7", "cn-mainland"}
        national_day = await calendars.day("cn-mainland", date(2026, 10, 1))
        assert national_day is not None
        assert (national_day.kind, national_day.source) == ("holiday", "chinese-calendar")
        days_2026 = await calendars.days(
            "cn-mainland", start=date(2026, 1, 1), end=date(2026, 12, 31)
        )
        makeup_2026 = {d.day for d in days_2026 if d.kind == "makeup_workday"}
        assert makeup_2026 == set(china_holidays(2026, 2026).makeup_workdays)
        assert date(2026, 9, 20) in makeup_2026  # a Sunday worked before National Day
        everything = await calendars.days("cn-mainland")
        expected = china_holidays()
        assert len(everything) == len(expected.holidays) + len(expected.makeup_workdays)
        # The migration writes its rows out literally; they must equal the domain's matrix.
        assert await policies.policies() == list(DEFAULT_POLICIES)
        built = await calendars.load_calendar("cn-mainland")
    assert built is not None
    reference = china_calendar()
    for moment in (
        datetime(2026, 9, 30, 9, 0, tzinfo=UTC),  # before National Day
        datetime(2026, 1, 30, 2, 0, tzinfo=UTC),
        datetime(2025, 12, 31, 8, 0, tzinfo=UTC),
    ):
        for seconds in (1, 27_000, 81_000, 135_000):
            assert built.add(moment, seconds) == reference.add(moment, seconds)


async def test_terms_come_from_the_first_matching_policy(database: Database) -> None:
    terms = StoredTerms()
    async with database.sessions() as session:
        p1 = await terms.terms(session, metric="first_response", facts=ComplaintFacts("P1"))
        p3 = await terms.terms(session, metric="resolution", facts=ComplaintFacts("P3"))
        p4 = await terms.terms(session, metric="next_response", facts=ComplaintFacts("P4"))
        with pytest.raises(UnknownCalendarError):
            await terms.calendar(session, "mars")
    assert (p1.target_seconds, p1.policy_id, p1.calendar.calendar_id) == (
        7200,
        "default-P1",
        "24x7",
    )
    start = datetime(2026, 10, 1, 1, tzinfo=UTC)  # a holiday: 24×7 does not care
    assert p1.calendar.add(start, 7200) == datetime(2026, 10, 1, 3, tzinfo=UTC)
    assert (p3.target_seconds, p3.calendar.calendar_id) == (81_000, "cn-mainland")
    assert p4.target_seconds == 54_000


async def test_the_cache_is_rebuilt_only_when_the_version_changes(database: Database) -> None:
    terms = StoredTerms()
    facts = ComplaintFacts("P3")
    async with database.sessions() as session:
        first = await terms.terms(session, metric="resolution", facts=facts)
        for _ in range(20):
            again = await terms.terms(session, metric="resolution", facts=facts)
            assert again.calendar is first.calendar  # the very same built calendar
    assert (terms.loads, terms.builds) == (1, 1)

    async with database.unit_of_work() as uow:
        job = await queue_recompute(
            uow.session, reason="calendar_changed", calendar_id="cn-mainland"
        )
        row = await PolicyRepository(uow.session).policy_row("default-P3")
        assert row is not None
        row.resolution_s = 99
    assert job.config_version == 2
    async with database.sessions() as session:
        assert await PolicyRepository(session).version() == 2
        changed = await terms.terms(session, metric="resolution", facts=facts)
        pending = await JobRepository(session).next_open()
    assert changed.target_seconds == 99
    assert changed.calendar is not first.calendar
    assert (terms.loads, terms.builds) == (2, 2)
    assert pending is not None
    assert pending.id == job.id
    assert pending.state == "pending"


async def test_target_overrides_from_settings(database: Database) -> None:
    assert not await apply_target_overrides(database=database, first_response=None, resolution=None)
    changed = await apply_target_overrides(
        database=database, first_response={"P1": 6}, resolution={"P1": 12, "P3": 3600}
    )
    assert changed
    async with database.sessions() as session:
        repository = PolicyRepository(session)
        policies = {p.policy_id: p for p in await repository.policies()}
        version = await repository.version()
        jobs = await JobRepository(session).recent(limit=5)
    assert (policies["default-P1"].first_response_s, policies["default-P1"].resolution_s) == (6, 12)
    assert policies["default-P3"].resolution_s == 3600
    assert policies["default-P3"].first_response_s == 27_000
    assert version == 2
    assert [(j.reason, j.calendar_id) for j in jobs] == [("policy_changed", None)]
    # The same values again change nothing: no version bump, no job (every restart).
    assert not await apply_target_overrides(
        database=database, first_response={"P1": 6}, resolution=None
    )
    async with database.sessions() as session:
        assert await PolicyRepository(session).version() == 2


async def test_an_override_cannot_break_the_policy_set(database: Database) -> None:
    async with database.unit_of_work() as uow:
        row = (
            await uow.session.scalars(select(SlaPolicy).where(SlaPolicy.policy_id == "default-P2"))
        ).one()
        row.channel = "phone"  # P2 no longer matched by every complaint
    with pytest.raises(InvalidPolicySetError, match="P2"):
        await apply_target_overrides(database=database, first_response={"P1": 5}, resolution=None)
