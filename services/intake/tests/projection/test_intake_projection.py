"""Intake's projection of escalations, duplicates and repeat counts, on a database migrated
by intake's own Alembic scripts: the row, the history, and what staff and customers see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintTriaged,
)
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.problems import install_problem_handlers
from cryptography.fernet import Fernet
from fastapi import FastAPI
from intake.access.db import ApiKey
from intake.access.domain.callers import hash_api_key
from intake.bootstrap import Dependencies, build_dependencies
from intake.complaints import service as complaints
from intake.complaints.api import new_complaint
from intake.complaints.schemas import ComplaintIn
from intake.config import IntakeSettings
from intake.db import Complaint, ComplaintRepository
from intake.main import MIGRATIONS
from intake.projection import service as projection
from intake.projection.api import router

API_KEY = "web-front-end-key"


@dataclass
class Intake:
    deps: Dependencies

    @property
    def database(self) -> Database:
        return self.deps.database


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await upgrade_to_head(MIGRATIONS, url)  # the real migrations, 0003 included
    database = Database(url)
    async with database.unit_of_work() as uow:
        uow.session.add(ApiKey(key_hash=hash_api_key(API_KEY), label="web", channels=["*"]))
    settings = IntakeSettings(
        database_url=url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key="ref-key",
    )
    yield Intake(build_dependencies(settings, database))
    await database.dispose()


async def post(intake: Intake, *, subject: str = "退款延迟") -> dict[str, Any]:
    complaint = ComplaintIn.model_validate(
        {
            "channel": "web",
            "customer": {"customer_id": "cust-1", "email": "li@example.com"},
            "subject": subject,
            "description": "我申请的退款到现在还没到账。",
        }
    )
    result = await complaints.submit_complaint(
        database=intake.database,
        secrets_=intake.deps.secrets,
        references=intake.deps.references,
        writer=intake.deps.writer,
        submission=complaints.Submission(new_complaint(complaint), 1, None, "hash"),
        public_base_url="http://intake",
    )
    return result.body


async def project(intake: Intake, data: EventData, *, source: str) -> str:
    event_id = str(uuid.uuid4())
    envelope = Envelope(
        id=event_id,
        type=data.ce_type(),
        source=source,
        subject=data.complaint_id,  # type: ignore[attr-defined]
        time=datetime.now(UTC),
        data=data,
        correlation_id=event_id,
        causation_id=None,
    )
    async with intake.database.unit_of_work() as uow:
        await projection.project_event(uow=uow, envelope=envelope)
    return event_id


def escalated(complaint_id: str, level: int, previous_level: int) -> ComplaintEscalated:
    return ComplaintEscalated.model_validate(
        {
            "complaint_id": complaint_id,
            "level": level,
            "previous_level": previous_level,
            "trigger": "resolution_breach" if level == 2 else "first_response_breach",
            "reason": "clock breached",
            "clock_id": "clk-1",
            "metric": "resolution",
            "actor": "sla-watch",
        }
    )


async def row(intake: Intake, complaint_id: str) -> Complaint:
    async with intake.database.sessions() as session:
        found = await ComplaintRepository(session).get(complaint_id)
    assert found is not None
    return found


async def get(intake: Intake, complaint_id: str, headers: dict[str, str]) -> dict[str, Any]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    app.state.dependencies = intake.deps
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        response = await client.get(f"/v1/complaints/{complaint_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_new_complaint_is_not_escalated_nor_a_duplicate(intake: Intake) -> None:
    posted = await post(intake)
    body = await get(intake, posted["id"], {"X-API-Key": API_KEY})
    assert (body["escalation_level"], body["repeat_count"]) == (0, 0)
    assert (body["duplicate_of"], body["duplicate_of_reference"]) == (None, None)


async def test_escalations_show_to_staff_with_their_step(intake: Intake) -> None:
    complaint_id = (await post(intake))["id"]
    await project(intake, escalated(complaint_id, 1, 0), source="sla-watch")
    event_id = await project(intake, escalated(complaint_id, 2, 1), source="sla-watch")

    assert (await row(intake, complaint_id)).escalation_level == 2
    body = await get(intake, complaint_id, {"X-API-Key": API_KEY})
    assert body["escalation_level"] == 2
    step = body["history"][-1]
    assert (step["event_id"], step["type"], step["source"]) == (
        event_id,
        ComplaintEscalated.ce_type(),
        "sla-watch",
    )
    assert (step["data"]["level"], step["data"]["trigger"]) == (2, "resolution_breach")
    assert body["status"] == "received"  # orthogonal to the state


async def test_customers_do_not_see_escalations(intake: Intake) -> None:
    posted = await post(intake)
    await project(intake, escalated(posted["id"], 1, 0), source="sla-watch")
    body = await get(intake, posted["id"], {"X-Tracking-Token": posted["tracking_token"]})
    assert body["escalation_level"] is None
    assert body["repeat_count"] is None
    assert [step["type"] for step in body["history"]] == [
        "org.opencomplaints.complaint.received.v1"
    ]


async def test_a_duplicate_tells_which_reference_stands(intake: Intake) -> None:
    original = await post(intake)
    duplicate = await post(intake, subject="退款还是没到")
    linked = ComplaintDuplicateLinked(
        complaint_id=duplicate["id"],
        duplicate_of=original["id"],
        matched_on=("same_customer_ref", "similar_text"),
        similarity=0.93,
        actor="routing",
    )
    await project(intake, linked, source="routing")

    stored = await row(intake, duplicate["id"])
    assert (stored.duplicate_of, stored.duplicate_of_reference) == (
        original["id"],
        original["reference"],
    )
    staff = await get(intake, duplicate["id"], {"X-API-Key": API_KEY})
    assert (staff["duplicate_of"], staff["duplicate_of_reference"]) == (
        original["id"],
        original["reference"],
    )
    assert staff["history"][-1]["data"]["matched_on"] == ["same_customer_ref", "similar_text"]

    customer = await get(intake, duplicate["id"], {"X-Tracking-Token": duplicate["tracking_token"]})
    assert customer["duplicate_of"] is None  # another complaint's id is internal
    assert customer["duplicate_of_reference"] == original["reference"]
    step = customer["history"][-1]
    assert step["type"] == ComplaintDuplicateLinked.ce_type()
    assert step["data"] == {"duplicate_of_reference": original["reference"]}
    # The original is untouched.
    assert (await row(intake, original["id"])).duplicate_of is None


async def test_the_repeat_count_comes_from_triage(intake: Intake) -> None:
    complaint_id = (await post(intake))["id"]
    triaged = ComplaintTriaged(
        complaint_id=complaint_id,
        category="billing_refund",
        confidence=0.9,
        priority="P2",
        emotion="yellow",
        repeat_count=2,
    )
    await project(intake, triaged, source="routing")
    body = await get(intake, complaint_id, {"X-API-Key": API_KEY})
    assert (body["repeat_count"], body["priority"], body["status"]) == (2, "P2", "triaged")
