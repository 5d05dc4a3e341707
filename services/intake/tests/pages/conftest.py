"""Fixtures of the tracking page's app tests: intake's app in-process (SQLite migrated by
its own Alembic scripts, no Kafka), a browser-like client that keeps cookies, complaints
posted through the API and other services' events projected as the consumer would."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet
from fastapi import FastAPI
from intake.cli import create_api_key
from intake.config import IntakeSettings
from intake.main import MIGRATIONS, create_app
from intake.projection import service as projection
from sqlalchemy import func, select

BASE = "https://track.example.org"
COMPLAINT: dict[str, Any] = {
    "channel": "web",
    "customer": {"customer_id": "CRM-9", "email": "li.na@example.com", "language": "zh-CN"},
    "subject": "退款没到账",
    "description": "我退货一个月了，退款还没到。",
}


@dataclass
class Pages:
    app: FastAPI
    client: httpx.AsyncClient
    key: str
    identity: DevIdentity

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def database(self) -> Database:
        database: Database = self.app.state.dependencies.database
        return database

    async def post(self, **changes: Any) -> dict[str, Any]:
        body = {**COMPLAINT, **changes}
        answer = await self.client.post(
            "/v1/complaints", json=body, headers={"X-API-Key": self.key}
        )
        assert answer.status_code == 201, answer.text
        accepted: dict[str, Any] = answer.json()
        return accepted

    async def open(self, accepted: dict[str, Any]) -> httpx.Response:
        """Open the link as a browser does: the redirect, then the page."""
        opened = await self.client.get(accepted["tracking_url"].removeprefix(BASE))
        assert opened.status_code == 303, opened.text
        page = await self.client.get(opened.headers["location"])
        assert page.status_code == 200, page.text
        return page

    def browser(self, cookies: httpx.Cookies) -> httpx.AsyncClient:
        """Another client of the same app with ``cookies`` (a second tab, an old cookie)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE, cookies=cookies
        )

    async def submit(
        self, page: httpx.Response, action: str, fields: dict[str, str], *, form: int = 0
    ) -> httpx.Response:
        """Post a form of ``page`` with its hidden fields (the ``form``-th one posting to
        ``action``) and ``fields``."""
        return await self.client.post(
            action, data={**hidden_fields(page.text, action, form), **fields}
        )

    async def count(self, model: Any) -> int:
        async with self.database.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar())

    async def project(self, data: EventData, *, source: str, time: datetime | None = None) -> None:
        event_id = str(uuid.uuid4())
        envelope = Envelope(
            id=event_id,
            type=data.ce_type(),
            source=source,
            subject=data.complaint_id,  # type: ignore[attr-defined]
            time=time or datetime.now(UTC),
            data=data,
            correlation_id=event_id,
            causation_id=None,
        )
        async with self.database.unit_of_work() as uow:
            await projection.project_event(uow=uow, envelope=envelope)


def hidden_fields(html: str, action: str, index: int = 0) -> dict[str, str]:
    forms = re.findall(
        rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S
    )
    assert forms, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', forms[index]))


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(1).strip()


MakePages = Callable[..., Any]


@pytest.fixture
async def make_pages(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[MakePages]:
    """``await make_pages(**settings)``: a fresh intake with these settings."""
    made: list[Pages] = []
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    key = await create_api_key(database_url=url, label="web", channels=["*"])

    async def make(**overrides: Any) -> Pages:
        values: dict[str, Any] = {
            "database_url": url,
            "contact_encryption_key": Fernet.generate_key().decode(),
            "customer_ref_key": "ref-key-for-intake-tests-0123456789abcdef",
            "public_base_url": BASE,
            "auth_jwks": identity.jwks(),
            "log_json": False,
            **overrides,
        }
        settings = IntakeSettings(**values)
        app = create_app(settings)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        pages = Pages(app, client, key, identity)
        made.append(pages)
        return pages

    yield make
    for pages in made:
        await pages.client.aclose()
        await pages.database.dispose()


@pytest.fixture
async def pages(make_pages: MakePages) -> Pages:
    made: Pages = await make_pages()
    return made
