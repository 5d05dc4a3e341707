"""A correction of the contacts on the suite's PostgreSQL, through routing's handler table:
the case file takes the corrected masked contacts while the agent answers the customer in a
concurrent transaction (both lock the case: both apply, the version moves once, for the
answer), and the case's erasure afterwards blanks the corrected contacts too."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.events import ComplaintContactsCorrected, ErasureRequested
from complaint_runtime.database import Database
from complaint_runtime.identity import Principal
from routing import messaging
from routing.bootstrap import build_dependencies
from routing.casefile.db import CaseFile
from routing.cases import service as cases
from routing.config import AgentConfig, RoutingSettings
from routing.db import Case, CaseAction
from routing.main import MIGRATIONS
from routing.staffing.service import seed_agents
from sqlalchemy import select

from ..conftest import consumed
from .conftest import received

NewDatabase = Callable[[Path], Awaitable[Database]]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AGENT_LI = Principal("agent-li", frozenset({"agent"}), "billing")


async def _feed(handlers: Any, database: Database, data: EventData) -> None:
    async with database.unit_of_work() as uow:
        await handlers[type(data)](uow, consumed(data))


async def test_a_correction_on_postgres_beside_an_answer_and_before_an_erasure(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    handlers = messaging.handlers(build_dependencies(RoutingSettings(), database=database))
    await seed_agents(database=database, agents=[AgentConfig(id="agent-li", team="billing")])
    cid = str(uuid.uuid4())
    customer = {"customer_ref": "cr_pg", "masked_phone": "138****5678"}
    await _feed(handlers, database, received(reference="C-1", complaint_id=cid, customer=customer))
    async with database.sessions() as session:
        version = (await session.get(Case, cid)).version  # type: ignore[union-attr]
    corrected = ComplaintContactsCorrected(
        complaint_id=cid,
        customer_ref="cr_pg",
        corrected=("phone", "email"),
        masked_phone="139****1111",
        masked_email="n***@example.com",
        corrected_at=T0 + timedelta(minutes=5),
        actor="front-end:web",
    )

    await asyncio.gather(
        _feed(handlers, database, corrected),
        cases.record_first_response(database=database, complaint_id=cid, principal=AGENT_LI),
    )

    async with database.sessions() as session:
        case = await session.get(Case, cid)
        case_file = await session.get(CaseFile, cid)
        actions = list(
            await session.scalars(select(CaseAction.action).where(CaseAction.complaint_id == cid))
        )
    assert case is not None
    assert case_file is not None
    assert (case.status, case.version) == ("in_progress", version + 1)
    assert (case_file.customer_masked_phone, case_file.customer_masked_email) == (
        "139****1111",
        "n***@example.com",
    )
    assert {"contacts_corrected", "first_response_sent"} <= set(actions)

    await _feed(
        handlers,
        database,
        ErasureRequested(
            complaint_id=cid,
            erasure_id="era-pg",
            customer_ref="cr_pg",
            reason="customer_request",
            requested_at=T0 + timedelta(minutes=10),
            actor="admin:admin-7",
        ),
    )
    async with database.sessions() as session:
        erased = await session.get(CaseFile, cid)
    assert erased is not None
    assert (erased.customer_masked_phone, erased.customer_masked_email) == (None, None)
