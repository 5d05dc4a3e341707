"""Fixtures of the rights tests: intake's whole app in-process over a SQLite database
migrated by its own scripts, front ends' keys (with and without the ``export`` scope), an
administrator's token, complaints posted through the API, other services' events fed
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
from complaint_runtime.audit import AuditLink
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from cryptography.fernet import Fernet
from intake import messaging
from intake.cli import create_api_key
from intake.config import IntakeSettings
from intake.db import Complaint, OutboxMessage
from intake.main import create_app
from sqlalchemy import select

REF_KEY = "ref-key-for-intake-rights-tests-0123456789abcdef"


async def feed(database: Database, data: EventData, *, source: str) -> None:
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
    async with database.unit_of_work() as uow:
        await handler(uow, envelope)


async def events(database: Database) -> list[Envelope]:
    """The events in the outbox, oldest first."""
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [
        decode(r.key, r.value, [(name, value.encode()) for name, value in r.headers]) for r in rows
    ]


@dataclass
class Intake:
    client: httpx.AsyncClient
    database: Database
    settings: IntakeSettings
    keys: dict[str, str]  # web (export scope), web-plain (none), app (export scope)
    identity: DevIdentity

    def key(self, name: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[name]}

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

    async def post(self, body: dict[str, Any], *, key: str = "web") -> dict[str, Any]:
        answer = await self.client.post("/v1/complaints", json=body, headers=self.key(key))
        assert answer.status_code == 201, answer.text
        accepted: dict[str, Any] = answer.json()
        return accepted

    async def export(
        self, body: dict[str, Any], headers: dict[str, str], **params: str
    ) -> httpx.Response:
        return await self.client.post("/v1/exports", json=body, headers=headers, params=params)

    async def correct(
        self, complaint_id: str, body: Any, headers: dict[str, str]
    ) -> httpx.Response:
        return await self.client.patch(
            f"/v1/complaints/{complaint_id}/contacts", json=body, headers=headers
        )

    async def contact(self, complaint_id: str) -> dict[str, Any]:
        """What notify reads just in time (the internal contact lookup, notify's token)."""
        answer = await self.client.get(
            f"/internal/v1/complaints/{complaint_id}/contact",
            headers=self.service("notify"),
        )
        assert answer.status_code == 200, answer.text
        card: dict[str, Any] = answer.json()
        return card

    async def feed(self, data: EventData, *, source: str) -> None:
        await feed(self.database, data, source=source)

    async def audited(self, action: str) -> list[dict[str, Any]]:
        """The audit chain's entries of ``action``, oldest first."""
        async with self.database.sessions() as session:
            links = list(await session.scalars(select(AuditLink).order_by(AuditLink.seq)))
        return [e for link in links for e in link.entries if e["action"] == action]

    async def complaint(self, complaint_id: str) -> Complaint:
        async with self.database.sessions() as session:
            found = await session.get(Complaint, complaint_id)
        assert found is not None
        return found


@pytest.fixture
async def intake(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    keys = {
        "web": await create_api_key(
            database_url=url, label="web shop", channels=["*"], front_end="web", scopes=["export"]
        ),
        "web-plain": await create_api_key(
            database_url=url, label="web shop (no scope)", channels=["*"], front_end="web"
        ),
        "app": await create_api_key(
            database_url=url, label="app", channels=["*"], front_end="app", scopes=["export"]
        ),
    }
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
        yield Intake(client, database, settings, keys, identity)
    await database.dispose()
    await app.state.runtime.database.dispose()
