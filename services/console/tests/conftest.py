"""Fixtures shared by the console's tests: the app over a SQLite read model in a temporary
directory, routing and sla-watch faked with ``httpx.MockTransport`` (they record every
request, with its bearer token), and browsers signed in as any role."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.database import Base, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import tables_of
from console.bootstrap import Dependencies, Transports, build_dependencies
from console.config import ConsoleSettings
from console.main import create_app
from console_support import (
    AGENT,
    BASE_URL,
    CASE_ID,
    LEAD,
    OPENAPI,
    OTHER_CASE_ID,
    Browser,
    FakeUpstream,
    NewBrowser,
    NewDeps,
    case_file,
    case_row,
    iso,
    task,
    task_page,
)


@pytest.fixture(scope="session")
def identity() -> DevIdentity:
    """The development platform's keys: the console's own (kid ``console``), the identity
    provider's that signs the tokens users paste, every service's."""
    return DevIdentity.generate()


@pytest.fixture
def routing() -> FakeUpstream:
    fake = FakeUpstream()
    fake.answer("GET", "/openapi.json", 200, OPENAPI)
    fake.answer("GET", "/v1/cases", 200, {"items": [case_row()], "next": None})
    fake.answer("GET", r"/v1/cases/[0-9a-f-]{36}", 200, case_file())
    fake.answer("POST", r"/v1/cases/[0-9a-f-]{36}/[a-z-]+(/[a-z-]+)?", 200, case_file())
    fake.answer("POST", r"/v1/cases/[0-9a-f-]{36}/notes", 201, {"id": 1})
    fake.answer("POST", r"/v1/cases/[0-9a-f-]{36}/escalate", 202, {"level": 2})
    fake.answer(
        "POST",
        r"/v1/cases/[0-9a-f-]{36}/contact/reveal",
        200,
        {"name": None, "email": None, "phone": None, "preferred_channel": None},
    )
    fake.answer("POST", r"/v1/tasks/\d+/(assign|complete)", 200, task(status="open"))
    fake.answer(
        "GET",
        "/v1/canned-replies",
        200,
        [{"id": 1, "title": "退款进度", "text": "您的退款已在处理中，预计 3 个工作日内到账。"}],
    )
    fake.answer(
        "GET",
        "/v1/admin/agents",
        200,
        [
            {"id": "agent-billing", "team": "billing", "level": "senior", "capacity": 10,
             "availability": "online", "open_load": 4},
            {"id": "agent-billing-2", "team": "billing", "level": "junior", "capacity": 5,
             "availability": "online", "open_load": 5},
            {"id": "agent-billing-3", "team": "billing", "level": "intermediate", "capacity": 8,
             "availability": "offline", "open_load": 0},
        ],
    )  # fmt: skip
    fake.answer(
        "GET", "/v1/admin/teams", 200, [{"id": "billing", "name": "Billing"}, {"id": "quality"}]
    )
    fake.answer(
        "GET",
        r"/v1/teams/[a-z0-9-]+/queue",
        200,
        {
            "team": "billing",
            "cases": [
                {
                    "complaint_id": OTHER_CASE_ID,
                    "reference": "C-20261206-000099",
                    "status": "triaged",
                    "category": "billing_refund",
                    "priority": "P3",
                    "language": "zh-CN",
                    "tier": "standard",
                    "needs_senior": False,
                    "queued_at": iso(datetime.now(UTC) - timedelta(minutes=42)),
                    "waiting_s": 2520,
                }
            ],
        },
    )
    fake.answer("GET", "/v1/tasks", 200, task_page())
    return fake


@pytest.fixture
def sla_watch() -> FakeUpstream:
    fake = FakeUpstream()
    fake.answer(
        "GET",
        "/v1/clocks/at-risk",
        200,
        {
            "clocks": [
                {
                    "clock_id": "c2",
                    "complaint_id": CASE_ID,
                    "metric": "resolution",
                    "priority": "P2",
                    "team": "billing",
                    "message_id": None,
                    "calendar_id": "cn-mainland",
                    "target_seconds": 172800,
                    "started_at": iso(datetime.now(UTC) - timedelta(hours=3)),
                    "due_at": iso(datetime.now(UTC) + timedelta(minutes=20)),
                    "remaining_seconds": 1200,
                    "fired_percents": [50, 75, 90],
                }
            ]
        },
    )
    return fake


@pytest.fixture
def settings(tmp_path: Path, identity: DevIdentity) -> Callable[..., ConsoleSettings]:
    def make(**values: Any) -> ConsoleSettings:
        keys = {name.lower(): value for name, value in identity.env("console").items()}
        defaults: dict[str, Any] = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/console-{uuid.uuid4().hex[:8]}.db",
            **keys,
            "console_dev_sign_in": True,
            "console_cookie_secure": False,
            "log_json": False,
        }
        return ConsoleSettings(**(defaults | values))

    return make


@pytest.fixture
async def make_deps(
    settings: Callable[..., ConsoleSettings], routing: FakeUpstream, sla_watch: FakeUpstream
) -> AsyncIterator[NewDeps]:
    """``await make_deps(**settings)``: the console's dependencies with routing and
    sla-watch faked and the read model's tables created (no migrations, no Kafka)."""
    built: list[Dependencies] = []

    async def make(
        transports: Transports | None = None,
        clock: Callable[[], datetime] = utcnow,
        **values: Any,
    ) -> Dependencies:
        deps = build_dependencies(
            settings(**values),
            transports=transports
            or Transports(routing=routing.transport(), sla_watch=sla_watch.transport()),
            clock=clock,
        )
        tables = tables_of("console")
        async with deps.database.engine.begin() as connection:
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
        built.append(deps)
        return deps

    yield make
    for deps in built:
        await deps.aclose()
        await deps.database.dispose()


@pytest.fixture
async def browser(make_deps: NewDeps, identity: DevIdentity) -> AsyncIterator[NewBrowser]:
    """``await browser(**settings)``: a client of a fresh console app."""
    clients: list[httpx.AsyncClient] = []

    async def make(deps: Dependencies | None = None, **values: Any) -> Browser:
        deps = deps or await make_deps(**values)
        app = create_app(dependencies=deps)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, follow_redirects=False
        )
        clients.append(client)
        return Browser(client, deps, identity)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def agent(browser: NewBrowser) -> Browser:
    """The billing team's agent, signed in with the development sign-in."""
    signed_in = await browser()
    await signed_in.sign_in_as(AGENT)
    return signed_in


@pytest.fixture
async def lead(browser: NewBrowser) -> Browser:
    signed_in = await browser()
    await signed_in.sign_in_as(LEAD)
    return signed_in
