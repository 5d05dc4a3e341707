"""The routing events sla-watch consumes, the firing loop, the read API and the settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode, encode
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
)
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.migrations import upgrade_to_head
from fastapi import FastAPI
from pydantic import ValidationError
from sla_watch import messaging, metrics
from sla_watch.clocks.settings import ClockSettings
from sla_watch.config import SlaSettings
from sla_watch.firing.loop import FireLoop
from sla_watch.firing.service import count_running
from sla_watch.main import MIGRATIONS, create_app
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import delete, select

from .conftest import auth_settings, bearer

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 100, "P2": 200, "P3": 300, "P4": 400},
        resolution={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
        next_response={"P1": 50, "P2": 60, "P3": 70, "P4": 80},
    ),
)


def envelope(data: EventData, time: datetime = T0) -> Envelope:
    _, record = encode(data, topic=topics.ROUTING.name, source="routing", subject=CID, time=time)
    return decode(record.key, record.value, list(record.headers))


async def deliver(db: Database, data: EventData, time: datetime = T0) -> None:
    """What the runtime's consumer does with one record, minus Kafka."""
    env = envelope(data, time)
    handler = messaging.handlers(SETTINGS).get(type(env.data))
    async with db.unit_of_work() as uow:
        with caused_by(correlation_id=env.correlation_id, causation_id=env.id):
            assert await uow.mark_processed(consumer="sla-watch", event_id=env.id, outcome="ok")
            if handler is not None:
                await handler(uow, env)


async def drain(db: Database) -> list[Envelope]:
    async with db.sessions() as session, session.begin():
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        await session.execute(delete(OutboxMessage))
    return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]) for r in rows]


def summary(events: list[Envelope]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for e in events:
        data: Any = e.data
        detail = getattr(data, "outcome", None) or getattr(data, "percent", None)
        out.append((f"{data.event_name}:{data.metric}", detail))
    return out


def triaged(priority: Any = "P1") -> ComplaintTriaged:
    return ComplaintTriaged(
        complaint_id=CID,
        category="privacy_data_leak",
        confidence=0.9,
        priority=priority,
        emotion="red",
    )


async def test_the_case_lifecycle_drives_the_clocks(database: Database) -> None:
    await deliver(database, triaged())
    await deliver(database, ComplaintAssigned(complaint_id=CID, team="t1", actor="routing"))
    await deliver(
        database,
        ComplaintFirstResponseSent(
            complaint_id=CID, actor="agent-1", responded_at=T0 + timedelta(seconds=40)
        ),
    )
    await deliver(
        database,
        ComplaintAwaitingCustomer(
            complaint_id=CID, actor="agent-1", since=T0 + timedelta(seconds=100)
        ),
    )
    await deliver(
        database,
        ComplaintResumed(
            complaint_id=CID,
            trigger="customer_message",
            actor="customer",
            resumed_at=T0 + timedelta(seconds=160),
        ),
    )
    resolved_at = T0 + timedelta(seconds=200)
    await deliver(
        database,
        ComplaintResolved(
            complaint_id=CID,
            solution_summary="refunded",
            solution_type="refund",
            root_cause="bug",
            actor="agent-1",
            resolved_at=resolved_at,
        ),
    )
    await deliver(
        database,
        ComplaintClosed(
            complaint_id=CID,
            reason="confirmed",
            evidence_event_id="e-1",
            actor="routing",
            closed_at=resolved_at,
        ),
    )
    events = await drain(database)
    assert summary(events) == [
        ("sla.clock_started:first_response", None),
        ("sla.clock_started:resolution", None),
        ("sla.clock_stopped:first_response", "met"),
        ("sla.clock_paused:resolution", None),
        ("sla.clock_resumed:resolution", None),
        ("sla.clock_stopped:resolution", "met"),
    ]
    resumed: Any = events[4].data
    assert resumed.due_at == T0 + timedelta(seconds=1060)
    assert events[-1].data.elapsed_seconds == 140  # type: ignore[attr-defined]
    # Every event sla-watch sends continues the causal chain of the one that caused it.
    assert all(e.causation_id for e in events)


async def test_reopen_with_a_higher_priority_restarts_resolution(database: Database) -> None:
    await deliver(database, triaged("P3"))
    same = ComplaintRecategorized(
        complaint_id=CID,
        old_category="other",
        new_category="billing_refund",
        old_priority="P3",
        new_priority="P3",
        reason="supervisor",
        actor="lead-1",
    )
    await deliver(database, same)
    higher = same.model_copy(update={"new_priority": "P2", "reason": "reopened"})
    await deliver(database, higher, T0 + timedelta(seconds=10))
    events = await drain(database)
    assert summary(events) == [
        ("sla.clock_started:first_response", None),
        ("sla.clock_started:resolution", None),
        ("sla.clock_stopped:resolution", "cancelled"),
        ("sla.clock_started:resolution", None),
        ("sla.clock_rescheduled:first_response", None),
    ]
    rescheduled: Any = events[-1].data
    assert (rescheduled.reason, rescheduled.target_seconds) == ("priority_changed", 200)
    assert rescheduled.due_at == T0 + timedelta(seconds=200)


async def test_reopen_keeping_its_priority_restarts_the_stopped_resolution_clock(
    database: Database,
) -> None:
    await deliver(database, triaged("P2"))
    resolved_at = T0 + timedelta(seconds=30)
    await deliver(
        database,
        ComplaintResolved(
            complaint_id=CID,
            solution_summary="fixed",
            solution_type="refund",
            root_cause="bug",
            actor="agent-1",
            resolved_at=resolved_at,
        ),
    )
    reopened = ComplaintRecategorized(
        complaint_id=CID,
        old_category="other",
        new_category="other",
        old_priority="P2",
        new_priority="P2",  # a reopen raises at most to P2
        reason="reopened: low_csat",
        actor="customer",
    )
    await deliver(database, reopened, T0 + timedelta(seconds=60))
    await deliver(database, reopened.model_copy(update={"reason": "supervisor note"}))
    assert summary(await drain(database)) == [
        ("sla.clock_started:first_response", None),
        ("sla.clock_started:resolution", None),
        ("sla.clock_stopped:resolution", "met"),
        ("sla.clock_started:resolution", None),
    ]


async def test_the_loop_fires_and_stops(database: Database) -> None:
    await deliver(database, triaged())
    await drain(database)
    loop = FireLoop(
        database=database, settings=SETTINGS, tick_s=0.01, clock=lambda: T0 + timedelta(seconds=95)
    )
    task = asyncio.create_task(loop.run())
    for _ in range(200):
        await asyncio.sleep(0.02)
        if fired := await drain(database):
            break
    loop.stop()
    await asyncio.wait_for(task, 5)
    assert [p for _, p in summary(fired)] == [50, 75, 90]
    await count_running(database=database)
    assert metrics.CLOCKS_RUNNING.labels("resolution")._value.get() == 1


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path}/api.db"
    await upgrade_to_head(MIGRATIONS, url)
    application = create_app(
        SlaSettings(database_url=url, **auth_settings(), migrate_on_start=False, log_json=False)
    )
    yield application
    await application.state.runtime.database.dispose()


async def test_the_read_api(app: FastAPI) -> None:
    await deliver(app.state.runtime.database, triaged(), datetime.now(UTC) - timedelta(seconds=30))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        path = f"/v1/complaints/{CID}/clocks"
        assert (await client.get(path)).status_code == 401
        forbidden = await client.get(path, headers=bearer("admin"))
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"] == "application/problem+json"
        bad = await client.get("/v1/complaints/nope/clocks", headers=bearer("agent"))
        assert bad.status_code == 422
        other = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c41"
        missing = await client.get(f"/v1/complaints/{other}/clocks", headers=bearer("service"))
        assert missing.status_code == 404
        # Not assigned yet, so no team: only a role seeing every complaint's clocks reads it.
        assert (await client.get(path, headers=bearer("lead"))).status_code == 404
        answer = await client.get(path, headers=bearer("manager"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["complaint_id"] == CID
    by_metric = {c["metric"]: c for c in body["clocks"]}
    first = by_metric["first_response"]
    assert first["state"] == "running"
    assert first["target_seconds"] == 100
    assert 29 <= first["elapsed_seconds"] <= 40
    assert first["remaining_seconds"] == 100 - first["elapsed_seconds"]
    assert first["fired_percents"] == []
    assert first["breached"] is False
    assert by_metric["resolution"]["target_seconds"] == 1000


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLA_WARNING_PERCENTS", "90, 50,75")
    monkeypatch.setenv("SLA_FIRST_RESPONSE_TARGETS_S", '{"P1": 60}')
    monkeypatch.setenv("SLA_TICK_S", "0.1")
    settings = SlaSettings()
    assert settings.service_name == "sla-watch"
    assert settings.sla_warning_percents == (50, 75, 90)
    # An override of the default policies' targets; priorities left out keep theirs.
    assert settings.sla_first_response_targets_s == {"P1": 60}
    assert settings.sla_resolution_targets_s is None
    assert settings.sla_tick_s == 0.1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLA_WARNING_PERCENTS", "50,100"),
        ("SLA_WARNING_PERCENTS", "abc"),
        ("SLA_RESOLUTION_TARGETS_S", '{"P9": 10}'),
        ("SLA_RESOLUTION_TARGETS_S", '{"P1": 0}'),
        ("SLA_FIRE_BATCH", "0"),
    ],
)
def test_bad_settings_fail_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        SlaSettings()
