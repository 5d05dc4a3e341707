"""Fixtures of the erasure tests: intake's whole app in-process over a SQLite database
migrated by its own scripts, front ends' keys (with and without the ``erasure`` scope),
staff tokens, complaints posted through the API, other services' events projected and fed
through the consumer's handler table, and the outbox read back as events."""

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
from complaint_contracts.envelope import Envelope, decode
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from cryptography.fernet import Fernet
from fastapi import FastAPI
from intake import messaging
from intake.cli import create_api_key
from intake.config import IntakeSettings
from intake.db import Complaint, OutboxMessage
from intake.main import create_app
from sqlalchemy import delete, select

REF_KEY = "ref-key-for-intake-erasure-tests-0123456789abcdef"

# The customer to erase: every value is distinctive, so a scan of the database finds it.
CUSTOMER: dict[str, Any] = {
    "customer_id": "CRM-80417",
    "name": "Zhang Weiqiang",
    "phone": "+86 139-0871-5523",
    "email": "Zhang.Weiqiang@Example.com",
    "language": "en",
}
FORBIDDEN = (
    "CRM-80417",
    "Zhang",
    "Weiqiang",
    "13908715523",
    "139-0871",
    "139****5523",
    "z***@example.com",
    "example.com",
    "RF-447190",
    "Parcel crushed",
    "crushed in transit",
    "KC-5517",
    "Pacific/Auckland",
    "third message about the parcel",
    "refund of RF-447190 is on its way",
)


def complaint_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web",
        "customer": dict(CUSTOMER),
        "subject": "Parcel crushed RF-447190",
        "description": "The parcel was crushed in transit; order RF-447190.",
        "order_ref": "RF-447190",
        "metadata": {"crm_case": "KC-5517"},
        "timezone": "Pacific/Auckland",
        "attachments": [
            {
                "url": "https://files.example.com/RF-447190/photo.jpg",
                "media_type": "image/jpeg",
                "size": 100,
            }
        ],
    }
    body.update(changes)
    return body


OTHER_CUSTOMER: dict[str, Any] = {
    "channel": "web",
    "customer": {"customer_id": "CRM-1", "phone": "13700001111", "language": "en"},
    "subject": "Late delivery",
    "description": "Still waiting for the delivery.",
}


@dataclass
class Intake:
    client: httpx.AsyncClient
    database: Database
    settings: IntakeSettings
    web_key: str  # front end "web", scope erasure
    web_plain_key: str  # front end "web", no scope
    app_key: str  # front end "app", scope erasure
    app: FastAPI
    identity: DevIdentity

    def token(
        self, *roles: str, subject: str = "admin-7", audience: str = "intake"
    ) -> dict[str, str]:
        token = self.identity.token(subject=subject, roles=list(roles), audience=audience)
        return {"Authorization": f"Bearer {token}"}

    def service(self, caller: str) -> dict[str, str]:
        token = self.identity.service_token(caller=caller, audience="intake")
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.token("admin")

    async def post(self, body: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/complaints",
            json=body,
            headers={"X-API-Key": key or self.web_key, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert answer.status_code == 201, answer.text
        accepted: dict[str, Any] = answer.json()
        return accepted

    async def erase(self, body: Any, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post("/v1/erasures", json=body, headers=headers)

    async def status(self, erasure_id: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.get(f"/v1/erasures/{erasure_id}", headers=headers)

    async def feed(self, data: EventData, *, source: str) -> None:
        """Another service's event through intake's consumer handler table."""
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
        handler = messaging.handlers()[type(data)]
        async with self.database.unit_of_work() as uow:
            await handler(uow, envelope)

    async def events(self) -> list[Envelope]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [
            decode(r.key, r.value, [(name, value.encode()) for name, value in r.headers])
            for r in rows
        ]

    async def relay(self) -> None:
        """What the outbox relay does once Kafka has the events: the rows go."""
        async with self.database.unit_of_work() as uow:
            await uow.session.execute(delete(OutboxMessage))

    async def complaint(self, complaint_id: str) -> Complaint:
        async with self.database.sessions() as session:
            found = await session.get(Complaint, complaint_id)
        assert found is not None
        return found


@pytest.fixture
async def intake(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    web_key = await create_api_key(
        database_url=url, label="web shop", channels=["*"], front_end="web", scopes=["erasure"]
    )
    web_plain = await create_api_key(
        database_url=url, label="web shop (reader)", channels=["*"], front_end="web"
    )
    app_key = await create_api_key(
        database_url=url, label="app", channels=["*"], front_end="app", scopes=["erasure"]
    )
    settings = IntakeSettings(
        database_url=url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key=REF_KEY,
        public_base_url="https://intake.example.org",
        auth_jwks=identity.jwks(),
        log_json=False,
    )
    app = create_app(settings)
    database = Database(url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Intake(client, database, settings, web_key, web_plain, app_key, app, identity)
    await database.dispose()
    await app.state.runtime.database.dispose()
