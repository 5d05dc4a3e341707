"""Fixtures of the task tests: billing cases resolved and reopened through routing's own
handlers (feedback's events), staff tokens, an HTTP client over the task, case file and
case command routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.events import ComplaintConfirmationRequested, ComplaintReopened
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from routing.casefile.api import router as case_file_router
from routing.cases import service as cases
from routing.cases.api import router as case_commands_router
from routing.tasks.api import router as tasks_router

from ..conftest import staff_auth as auth

NOW = datetime.now(UTC)
SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}
AGENT_LI = Principal("agent-li", frozenset({"agent"}), "billing")

Reopen = Callable[..., Awaitable[str]]


LI = auth("agent-li", "agent", team="billing")
MA = auth("agent-ma", "agent", team="billing")
WANG = auth("agent-wang", "agent", team="quality")
BILLING_LEAD = auth("lead-zhao", "lead", team="billing")
QUALITY_LEAD = auth("lead-qian", "lead", team="quality")
MANAGER = auth("mgr-sun", "manager")
ADMIN = auth("admin-1", "admin")


def requested(complaint_id: str) -> ComplaintConfirmationRequested:
    return ComplaintConfirmationRequested(
        complaint_id=complaint_id,
        request_id="req-1",
        channel="sms",
        requested_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )


def reopened(complaint_id: str, *, reason: str = "not_solved") -> ComplaintReopened:
    return ComplaintReopened(
        complaint_id=complaint_id, reason=reason, request_id="req-1", csat=2, reopened_at=NOW
    )


async def resolve(database: Database, complaint_id: str) -> None:
    await cases.record_first_response(
        database=database, complaint_id=complaint_id, principal=AGENT_LI
    )
    await cases.resolve(
        database=database, complaint_id=complaint_id, principal=AGENT_LI, **SOLUTION
    )


@pytest.fixture
async def agents(seed: Any) -> None:
    await seed(
        [
            {"id": "agent-li", "team": "billing", "level": "senior", "capacity": 50},
            {"id": "agent-ma", "team": "billing", "capacity": 50, "categories": ["other"]},
            {"id": "agent-wang", "team": "quality", "capacity": 50},
        ]
    )


@pytest.fixture
def reopen(database: Database, new_case: Any, feed: Any, agents: None) -> Reopen:
    """``await reopen()``: a new billing case (agent-li's), resolved, asked for and reopened
    (``reason``); its id. ``reopen(cid)`` reopens an existing, assigned case again."""

    async def run(complaint_id: str | None = None, *, reason: str = "not_solved") -> str:
        cid = complaint_id or await new_case()
        await resolve(database, cid)
        await feed(requested(cid))
        await feed(reopened(cid, reason=reason))
        return cid

    return run


@pytest.fixture
async def client(api_client: Any, agents: None) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(tasks_router, case_file_router, case_commands_router) as c:
        yield c
