"""The read API: a complaint's clocks (pauses, escalation level) and the clocks at risk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from fastapi import FastAPI
from sla_watch.clocks import complaint_facts, service
from sla_watch.clocks.settings import ClockSettings
from sla_watch.config import SlaSettings
from sla_watch.firing.service import fire_due
from sla_watch.main import MIGRATIONS, create_app
from sla_watch.policies.terms_source import StaticTerms

from ..conftest import auth_settings, bearer

SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 1000, "P2": 2000, "P3": 3000, "P4": 4000},
        resolution={"P1": 10_000, "P2": 20_000, "P3": 30_000, "P4": 40_000},
    )
)


def cid(n: int) -> str:
    return f"0195f3c2-7a10-7c4e-9b2d-3f6a8e1d{n:04x}"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path}/api.db"
    await upgrade_to_head(MIGRATIONS, url)
    application = create_app(
        SlaSettings(database_url=url, **auth_settings(), migrate_on_start=False, log_json=False)
    )
    yield application
    await application.state.runtime.database.dispose()


async def arm(db: Database, n: int, *, priority: Any, team: str, started: datetime) -> None:
    async with db.unit_of_work() as uow:
        await service.start_clocks(
            uow=uow, settings=SETTINGS, complaint_id=cid(n), priority=priority, at=started
        )
        await complaint_facts.set_team(uow=uow, complaint_id=cid(n), team=team)


async def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_complaints_clocks_show_pauses_and_the_escalation_level(app: FastAPI) -> None:
    db: Database = app.state.runtime.database
    now = datetime.now(UTC)
    await arm(db, 1, priority="P2", team="billing", started=now - timedelta(seconds=100))
    async with db.unit_of_work() as uow:
        await service.pause_clocks(
            uow=uow,
            settings=SETTINGS,
            complaint_id=cid(1),
            at=now - timedelta(seconds=80),
            reason="x",
        )
        await service.resume_clocks(
            uow=uow, settings=SETTINGS, complaint_id=cid(1), at=now - timedelta(seconds=50)
        )
    async with await client_of(app) as client:
        answer = await client.get(
            f"/v1/complaints/{cid(1)}/clocks", headers=bearer("agent", team="billing")
        )
    assert answer.status_code == 200
    body = answer.json()
    assert body["escalation_level"] == 0
    resolution = next(c for c in body["clocks"] if c["metric"] == "resolution")
    assert len(resolution["pauses"]) == 1
    assert resolution["pauses"][0]["resumed_at"] is not None
    assert 69 <= resolution["elapsed_seconds"] <= 75  # 100 s minus the 30 s pause
    assert resolution["remaining_seconds"] == 20_000 - resolution["elapsed_seconds"]
    assert (resolution["team"], resolution["message_id"]) == ("billing", None)


async def test_clocks_at_risk_soonest_first_filtered_and_bounded(app: FastAPI) -> None:
    db: Database = app.state.runtime.database
    now = datetime.now(UTC)
    await arm(db, 1, priority="P3", team="billing", started=now - timedelta(seconds=2900))
    await arm(db, 2, priority="P2", team="billing", started=now - timedelta(seconds=1000))
    await arm(db, 3, priority="P1", team="privacy", started=now - timedelta(seconds=10))
    async with await client_of(app) as client:
        everything = await client.get("/v1/clocks/at-risk", headers=bearer("manager"))
        billing = await client.get(
            "/v1/clocks/at-risk?team=billing&metric=first_response&limit=1",
            headers=bearer("service"),
        )
        p1 = await client.get("/v1/clocks/at-risk?priority=P1", headers=bearer("admin"))
    assert everything.status_code == 200
    clocks = everything.json()["clocks"]
    assert [(c["complaint_id"], c["metric"]) for c in clocks] == [
        (cid(1), "first_response"),  # 100 s left
        (cid(3), "first_response"),  # 990 s left
        (cid(2), "first_response"),  # 1000 s left
        (cid(3), "resolution"),
        (cid(2), "resolution"),
        (cid(1), "resolution"),
    ]
    assert [c["due_at"] for c in clocks] == sorted(c["due_at"] for c in clocks)
    assert 95 <= clocks[0]["remaining_seconds"] <= 100
    assert [c["complaint_id"] for c in billing.json()["clocks"]] == [cid(1)]
    assert {c["complaint_id"] for c in p1.json()["clocks"]} == {cid(3)}


async def test_breached_paused_and_stopped_clocks_are_not_at_risk(app: FastAPI) -> None:
    db: Database = app.state.runtime.database
    now = datetime.now(UTC)
    await arm(db, 1, priority="P1", team="a", started=now - timedelta(seconds=5000))
    await arm(db, 2, priority="P1", team="a", started=now)
    async with db.unit_of_work() as uow:
        for clock in await service.stop_clocks(
            uow=uow, settings=SETTINGS, complaint_id=cid(1), at=now, reason="x", metric="resolution"
        ):
            assert clock.state == "stopped"
        # first_response of 1 has breached (due 4000 s ago) once the loop saw it:
        await service.pause_clocks(
            uow=uow, settings=SETTINGS, complaint_id=cid(2), at=now, reason="x"
        )
    await fire_due(database=db, settings=SETTINGS)
    async with await client_of(app) as client:
        answer = await client.get("/v1/clocks/at-risk", headers=bearer("manager"))
    assert [(c["complaint_id"], c["metric"]) for c in answer.json()["clocks"]] == [
        (cid(2), "first_response")
    ]


async def test_a_lead_sees_only_their_team(app: FastAPI) -> None:
    db: Database = app.state.runtime.database
    now = datetime.now(UTC)
    await arm(db, 1, priority="P3", team="billing", started=now)
    await arm(db, 2, priority="P3", team="privacy", started=now)
    async with await client_of(app) as client:
        own = await client.get("/v1/clocks/at-risk", headers=bearer("lead", team="billing"))
        named = await client.get(
            "/v1/clocks/at-risk?team=billing", headers=bearer("lead", team="billing")
        )
        other = await client.get(
            "/v1/clocks/at-risk?team=privacy", headers=bearer("lead", team="billing")
        )
        teamless = await client.get("/v1/clocks/at-risk", headers=bearer("lead"))
    assert {c["complaint_id"] for c in own.json()["clocks"]} == {cid(1)}
    assert named.json() == own.json()
    assert other.status_code == 403
    assert teamless.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "roles", "status"),
    [
        ("", (), 401),
        ("", ("agent",), 403),
        ("?limit=0", ("manager",), 422),
        ("?limit=501", ("manager",), 422),
        ("?limit=500", ("manager",), 200),
        ("?priority=P9", ("manager",), 422),
        ("?metric=lunch", ("manager",), 422),
        ("?team=" + "x" * 201, ("manager",), 422),
    ],
)
async def test_at_risk_input_and_roles(
    app: FastAPI, query: str, roles: tuple[str, ...], status: int
) -> None:
    async with await client_of(app) as client:
        answer = await client.get(
            f"/v1/clocks/at-risk{query}", headers=bearer(*roles) if roles else {}
        )
    assert answer.status_code == status
    if status != 200:
        assert answer.headers["content-type"] == "application/problem+json"
