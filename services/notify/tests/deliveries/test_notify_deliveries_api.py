"""GET /v1/deliveries: the delivery log of a complaint, for leads, managers and services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintReceived
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import Base, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import envelope_of, record_of
from fastapi import FastAPI
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.deliveries import service
from notify.main import create_app
from notify.teams import service as teams
from notify.webhooks.db import WebhookDelivery


@pytest.fixture
async def app(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[FastAPI]:
    settings = NotifySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db",
        **{k.lower(): v for k, v in identity.env("notify").items()},
    )
    app = create_app(settings)
    deps: Dependencies = app.state.dependencies
    database = deps.database
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    envelope = envelope_of(record_of(example_for(ComplaintReceived), topics.INTAKE))
    async with database.unit_of_work() as uow:
        await service.record_deliveries(uow=uow, envelope=envelope, now=utcnow())
        await teams.record_team(uow=uow, complaint_id=COMPLAINT_ID, team="billing", at=utcnow())
    yield app
    await deps.internal_api.aclose()
    await database.dispose()


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify")


Auth = Callable[..., dict[str, str]]


@pytest.fixture
def auth(identity: DevIdentity) -> Auth:
    """``auth(*roles, team=None, audience="notify")``: a staff token's header; role
    ``service`` alone: a service's own token (routing's)."""

    def headers(*roles: str, team: str | None = None, audience: str = "notify") -> dict[str, str]:
        if roles == ("service",):
            token = identity.service_token(caller="routing", audience=audience)
        else:
            token = identity.token(
                subject="someone", roles=list(roles), team=team, audience=audience
            )
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.mark.parametrize(
    ("role", "team"), [("lead", "billing"), ("manager", None), ("service", None)]
)
async def test_deliveries_of_a_complaint(
    app: FastAPI, auth: Auth, role: str, team: str | None
) -> None:
    async with _client(app) as client:
        response = await client.get(
            "/v1/deliveries",
            params={"complaint_id": COMPLAINT_ID},
            headers=auth(role, team=team),
        )
    assert response.status_code == 200
    body = response.json()
    [delivery] = body["deliveries"]
    assert delivery["template"] == "acknowledgement"
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 0
    assert delivery["recipient"] == "customer"  # no address known before the send
    assert delivery["complaint_id"] == COMPLAINT_ID


@pytest.mark.parametrize("team", ["privacy", None])
async def test_a_lead_of_another_team_reads_no_deliveries(
    app: FastAPI, auth: Auth, team: str | None
) -> None:
    """Answered like a complaint without deliveries: the answer tells nothing (§10)."""
    async with _client(app) as client:
        response = await client.get(
            "/v1/deliveries",
            params={"complaint_id": COMPLAINT_ID},
            headers=auth("lead", team=team),
        )
    assert response.status_code == 200
    assert response.json() == {"complaint_id": COMPLAINT_ID, "deliveries": [], "webhooks": []}


async def test_another_complaint_has_no_deliveries(app: FastAPI, auth: Auth) -> None:
    async with _client(app) as client:
        response = await client.get(
            "/v1/deliveries",
            params={"complaint_id": "0195f3c2-0000-7000-8000-000000000000"},
            headers=auth("lead"),
        )
    assert response.json()["deliveries"] == []


@pytest.mark.parametrize(
    ("headers", "params", "status"),
    [
        ({}, {"complaint_id": COMPLAINT_ID}, 401),
        ({"Authorization": "Bearer not-a-token"}, {"complaint_id": COMPLAINT_ID}, 401),
        ("agent", {"complaint_id": COMPLAINT_ID}, 403),
        ("lead", {}, 422),
        ("lead", {"complaint_id": "not-a-uuid"}, 422),
        ("lead", {"complaint_id": COMPLAINT_ID, "limit": "100000"}, 422),
    ],
)
async def test_bad_requests_get_problem_documents(
    app: FastAPI, auth: Auth, headers: dict[str, str] | str, params: dict[str, str], status: int
) -> None:
    sent = auth(headers) if isinstance(headers, str) else headers
    async with _client(app) as client:
        response = await client.get("/v1/deliveries", params=params, headers=sent)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


@pytest.mark.parametrize("role", ["manager", "service"])
async def test_a_token_for_another_service_is_refused(app: FastAPI, auth: Auth, role: str) -> None:
    async with _client(app) as client:
        response = await client.get(
            "/v1/deliveries",
            params={"complaint_id": COMPLAINT_ID},
            headers=auth(role, audience="intake"),
        )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_log_shows_the_complaint_s_webhook_deliveries_too(
    app: FastAPI, auth: Auth
) -> None:
    deps: Dependencies = app.state.dependencies
    now = utcnow()
    async with deps.database.unit_of_work() as uow:
        uow.session.add(
            WebhookDelivery(
                id="6f1c2a70-0000-4000-8000-000000000001",
                subscription_id="6f1c2a70-0000-4000-8000-0000000000aa",
                event_id="ev-1",
                event_type="complaint.received",
                complaint_id=COMPLAINT_ID,
                payload={},
                status="failed",
                attempts=3,
                next_attempt_at=now,
                last_status_code=500,
                created_at=now,
                updated_at=now,
            )
        )
    async with _client(app) as client:
        response = await client.get(
            "/v1/deliveries", params={"complaint_id": COMPLAINT_ID}, headers=auth("manager")
        )
        hidden = await client.get(
            "/v1/deliveries",
            params={"complaint_id": COMPLAINT_ID},
            headers=auth("lead", team="other"),
        )
    [hook] = response.json()["webhooks"]
    assert hook["channel"] == "webhook"
    assert (hook["status"], hook["attempts"], hook["last_status_code"]) == ("failed", 3, 500)
    assert hook["cause_event_type"] == "complaint.received"
    assert response.json()["deliveries"]  # the acknowledgement beside it
    assert hidden.json()["webhooks"] == []  # another team's lead sees neither
