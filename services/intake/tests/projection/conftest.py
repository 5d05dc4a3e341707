"""Fixtures of the projection tests: intake over a SQLite database migrated by its own
Alembic scripts, a complaint posted through the use case, events projected as the consumer
would, and the complaint's view through the projection's router."""

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
FRONT_END = "web"  # the key's front end, which posts every complaint here


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
        uow.session.add(
            ApiKey(key_hash=hash_api_key(API_KEY), label="web", front_end=FRONT_END, channels=["*"])
        )
    settings = IntakeSettings(
        database_url=url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
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
        submission=complaints.Submission(
            new_complaint(complaint), 1, None, "hash", front_end=FRONT_END
        ),
        public_base_url="http://intake",
    )
    return result.body


def envelope_for(data: EventData, *, source: str) -> Envelope:
    """``data`` as another service's event about its complaint, with a fresh id."""
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


async def project(intake: Intake, data: EventData, *, source: str) -> str:
    envelope = envelope_for(data, source=source)
    async with intake.database.unit_of_work() as uow:
        await projection.project_event(uow=uow, envelope=envelope)
    return envelope.id


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
