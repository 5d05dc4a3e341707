"""Fixtures for routing's service and API tests: a SQLite database with routing's tables
(no migrations, no Kafka), the dependencies over it, and helpers to create cases, feed
events and read the outbox.

Tokens come from :data:`IDENTITY`, the session's development identity (the ``identity``
fixture): staff tokens from its identity provider, service tokens signed with a service's
own key, all for audience ``routing``. A module constant, not only a fixture, because the
suites build their request headers (``LI``, ``MANAGER``...) at import time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import ComplaintReceived, CustomerView
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.problems import install_problem_handlers
from complaint_runtime.testing import sqlite_database
from fastapi import APIRouter, FastAPI
from routing import messaging
from routing.bootstrap import Dependencies, build_dependencies
from routing.config import AgentConfig, RoutingSettings
from routing.db import Case, OutboxMessage
from routing.staffing.service import seed_agents
from routing.triage.service import triage_and_assign
from sqlalchemy import select

NewCase = Callable[..., Awaitable[str]]
Triage = Callable[..., Awaitable[Case | None]]
Feed = Callable[[EventData], Awaitable[str]]
Outbox = Callable[..., Awaitable[list[Envelope]]]
Seed = Callable[[list[dict[str, Any]]], Awaitable[None]]
ApiClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

AUDIENCE = "routing"
# Longer than the default 900 s: headers built at import must outlive a slow suite run.
TEST_TOKEN_TTL_S = 24 * 3600
IDENTITY = DevIdentity.generate()  # frozen: the session's keys, one set for every test

BILLING_TEXT = "我10月28日申请的退款到现在还没到账，退款延迟太久了。"


def staff_auth(
    sub: str, *roles: str, team: str | None = None, audience: str = AUDIENCE
) -> dict[str, str]:
    """The headers of a staff member's token from the development identity provider."""
    token = IDENTITY.token(
        subject=sub, roles=list(roles), team=team, audience=audience, ttl_s=TEST_TOKEN_TTL_S
    )
    return {"Authorization": f"Bearer {token}"}


def service_auth(caller: str, audience: str = AUDIENCE) -> dict[str, str]:
    """The headers of ``caller``'s own service token (signed with its key)."""
    token = IDENTITY.service_token(caller=caller, audience=audience, ttl_s=TEST_TOKEN_TTL_S)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def identity() -> DevIdentity:
    """The session's development identity: the keys every token of the suite is signed with."""
    return IDENTITY


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "routing.db", "routing")
    yield db
    await db.dispose()


@pytest.fixture
def deps(database: Database) -> Dependencies:
    """Routing's dependencies over the test database, from the default settings (rules)."""
    return build_dependencies(RoutingSettings(), database=database)


@pytest.fixture
def triage(deps: Dependencies) -> Triage:
    """``await triage(received, event_id)``: ``received`` triaged and assigned in its own
    transaction, as the consumer would; the case (None when it already had one)."""

    async def run(received: ComplaintReceived, event_id: str = "ev") -> Case | None:
        async with deps.database.unit_of_work() as uow:
            return await triage_and_assign(
                uow=uow,
                received=received,
                classifiers=deps.classifiers,
                duplicate_policy=deps.duplicate_policy,
                streak_length=deps.streak_length,
                event_id=event_id,
            )

    return run


@pytest.fixture
def new_case(triage: Triage) -> NewCase:
    """Triage a new complaint (billing refund by default); returns its id."""

    async def make(*, description: str = BILLING_TEXT, tier: str = "standard") -> str:
        complaint_id = str(uuid.uuid4())
        received = ComplaintReceived(
            complaint_id=complaint_id,
            reference="C-20261129-000001",
            channel="web",
            customer=CustomerView(customer_ref=f"ref-{complaint_id}", tier=tier),
            subject="退款迟迟未到账",
            description=description,
            received_at=datetime.now(UTC),
        )
        await triage(received, "ev-received")
        return complaint_id

    return make


def consumed(data: EventData, *, source: str = "test") -> Envelope:
    """``data`` as a consumed event about its complaint, with a fresh id."""
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        type=data.ce_type(),
        source=source,
        subject=data.complaint_id,  # type: ignore[attr-defined]
        time=datetime.now(UTC),
        data=data,
        correlation_id=event_id,
        causation_id=None,
    )


@pytest.fixture
def feed(deps: Dependencies) -> Feed:
    """Deliver one consumed event to routing's handler, as the consumer would."""
    handlers = messaging.handlers(deps)

    async def deliver(data: EventData) -> str:
        envelope = consumed(data)
        async with deps.database.unit_of_work() as uow:
            await handlers[type(data)](uow, envelope)
        return envelope.id

    return deliver


@pytest.fixture
def outbox(database: Database) -> Outbox:
    """The routing events staged so far, decoded, in order (optionally for one case)."""

    async def read(complaint_id: str | None = None) -> list[Envelope]:
        async with database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        envelopes = [
            decode(r.key, r.value, [(name, value.encode()) for name, value in r.headers])
            for r in rows
        ]
        return [e for e in envelopes if complaint_id is None or e.subject == complaint_id]

    return read


@pytest.fixture
def seed(database: Database) -> Seed:
    async def run(agents: list[dict[str, Any]]) -> None:
        await seed_agents(database=database, agents=[AgentConfig(**a) for a in agents])

    return run


@pytest.fixture
def api_client(deps: Dependencies, identity: DevIdentity) -> ApiClient:
    """``api_client(*routers, dependencies=deps)``: an HTTP client for those routers over
    the test database, verifying tokens as routing does: the session identity's public
    keys, audience ``routing`` (httpx ASGITransport: no lifespan, no Kafka)."""

    @asynccontextmanager
    async def open_client(
        *routers: APIRouter, dependencies: Dependencies | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = FastAPI()
        install_problem_handlers(app)
        for router in routers:
            app.include_router(router)
        # The runtime's verifier for the role checks, the dependencies for the routes.
        app.state.runtime = SimpleNamespace(token_verifier=identity.verifier(AUDIENCE))
        app.state.dependencies = dependencies or deps
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as client:
            yield client

    return open_client


def event_names(envelopes: list[Envelope]) -> list[str]:
    return [type(e.data).event_name for e in envelopes]  # type: ignore[attr-defined]


@pytest.fixture
def names() -> Callable[[list[Envelope]], list[str]]:
    return event_names
