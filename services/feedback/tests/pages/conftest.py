"""Fixtures of the survey and NPS pages' app tests: feedback's app in-process (SQLite
migrated by its own Alembic scripts, no Kafka), a browser-like client that keeps cookies,
complaints fed in as the consumer would, and the links notify would fetch."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import decode
from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintReceived,
    ComplaintResolved,
    CustomerView,
)
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.testing import FakeProducer, record_of
from fastapi import FastAPI
from feedback import messaging
from feedback.bootstrap import Dependencies
from feedback.config import FeedbackSettings
from feedback.main import MIGRATIONS, create_app
from sqlalchemy import select

BASE = "https://feedback.example.org"
LINK_SECRET = "link-secret-for-page-tests-0123456789abcdef"


@dataclass
class Site:
    app: FastAPI
    client: httpx.AsyncClient
    identity: DevIdentity

    def as_service(self, caller: str = "notify", audience: str = "feedback") -> dict[str, str]:
        """A service's own token (notify's for feedback, unless told)."""
        token = self.identity.service_token(caller=caller, audience=audience)
        return {"Authorization": f"Bearer {token}"}

    def as_staff(self, *roles: str, audience: str = "feedback") -> dict[str, str]:
        token = self.identity.token(subject="ops-1", roles=list(roles), audience=audience)
        return {"Authorization": f"Bearer {token}"}

    @property
    def deps(self) -> Dependencies:
        deps: Dependencies = self.app.state.dependencies
        return deps

    @property
    def database(self) -> Database:
        return self.deps.database

    def browser(self, cookies: httpx.Cookies | None = None, **headers: str) -> httpx.AsyncClient:
        """Another client of the same app (a second tab, a stranger, another language)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=BASE,
            cookies=cookies,
            headers=headers,
        )

    async def consume(self, *data: EventData, topic: topics.Topic) -> None:
        producer = FakeProducer()
        consumer = EventConsumer(
            database=self.database,
            bootstrap_servers="unused:9092",
            group_id="feedback",
            topics=[topics.INTAKE.name, topics.ROUTING.name],
            handlers=messaging.handlers(self.deps),
            dead_letter_topic="complaints.dlq.feedback.v1",
            producer=producer,  # type: ignore[arg-type]
        )
        records = [record_of(d, topic) for d in data]
        await consumer._process_batch(records)  # type: ignore[arg-type]
        assert producer.sent == [], "nothing should be dead-lettered"

    async def received(
        self, *, language: str = "zh-CN", customer_ref: str | None = None
    ) -> tuple[str, str]:
        """A complaint of a (new) customer; its id and the customer's reference."""
        complaint_id = str(uuid.uuid4())
        ref = customer_ref or f"cr_{uuid.uuid4().hex[:12]}"
        view = CustomerView(customer_ref=ref, language=language, preferred_channel="email")
        received = example_for(ComplaintReceived).model_copy(
            update={"complaint_id": complaint_id, "customer": view}
        )
        await self.consume(received, topic=topics.INTAKE)
        return complaint_id, ref

    async def survey_link(self, *, language: str = "zh-CN") -> tuple[str, str]:
        """A resolved complaint's survey link as notify gets it; (complaint id, link)."""
        complaint_id, _ = await self.received(language=language)
        resolved = example_for(ComplaintResolved).model_copy(update={"complaint_id": complaint_id})
        await self.consume(resolved, topic=topics.ROUTING)
        [requested] = [
            e
            for e in await self.events()
            if e.event_name.endswith("requested") and e.complaint_id == complaint_id
        ]  # type: ignore[attr-defined]
        body = await self.internal(
            f"/internal/v1/confirmation-requests/{requested.request_id}"  # type: ignore[attr-defined]
        )
        return complaint_id, str(body["survey_url"])

    async def closed(self, complaint_id: str, *, at: datetime, reason: str = "confirmed") -> None:
        closed = example_for(ComplaintClosed).model_copy(
            update={
                "complaint_id": complaint_id,
                "reason": reason,
                "closed_at": at,
                "evidence_event_id": str(uuid.uuid4()),
            }
        )
        await self.consume(closed, topic=topics.ROUTING)

    async def nps_round(self, start: datetime, end: datetime) -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE
        ) as internal:
            opened = await internal.post(
                "/internal/v1/nps/rounds",
                json={"start": start.isoformat(), "end": end.isoformat()},
                headers=self.as_staff("admin"),
            )
        assert opened.status_code == 202, opened.text
        await self.deps.nps_loop.run_once()
        body: dict[str, Any] = opened.json()
        return body

    async def nps_link(self, *, language: str = "zh-CN") -> tuple[str, str, str]:
        """A customer with a complaint closed a minute ago, asked in a round over that
        minute (100 % sampled); (complaint id, customer ref, link)."""
        complaint_id, ref = await self.received(language=language)
        now = datetime.now(UTC)
        await self.closed(complaint_id, at=now - timedelta(seconds=30))
        await self.nps_round(now - timedelta(seconds=60), now)
        [requested] = [
            e
            for e in await self.events()
            if e.event_name == "nps.survey_requested" and e.customer_ref == ref
        ]  # type: ignore[attr-defined]
        body = await self.internal(
            f"/internal/v1/nps/requests/{requested.request_id}"  # type: ignore[attr-defined]
        )
        return complaint_id, ref, str(body["nps_url"])

    async def internal(self, path: str) -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=BASE
        ) as internal:
            answer = await internal.get(path, headers=self.as_service())
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def open(self, link: str, client: httpx.AsyncClient | None = None) -> httpx.Response:
        """Open the link as a browser does: the redirect, then the page."""
        client = client or self.client
        opened = await client.get(link.removeprefix(BASE))
        assert opened.status_code == 303, opened.text
        page = await client.get(opened.headers["location"])
        assert page.status_code == 200, page.text
        return page

    async def submit(
        self,
        page: httpx.Response,
        action: str,
        fields: dict[str, str],
        *,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """Post the page's form to ``action`` with its hidden fields and ``fields``."""
        client = client or self.client
        return await client.post(action, data={**hidden_fields(page.text, action), **fields})

    async def events(self) -> list[EventData]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]


def hidden_fields(html: str, action: str) -> dict[str, str]:
    forms = re.findall(
        rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S
    )
    assert forms, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', forms[0]))


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(1).strip()


MakeSite = Callable[..., Any]


@pytest.fixture
async def make_site(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[MakeSite]:
    """``await make_site(**settings)``: a fresh feedback with these settings."""
    made: list[Site] = []
    url = f"sqlite+aiosqlite:///{tmp_path / 'feedback.db'}"
    await upgrade_to_head(MIGRATIONS, url)

    async def make(**overrides: Any) -> Site:
        values: dict[str, Any] = {
            "database_url": url,
            "auth_jwks": identity.jwks(),
            "feedback_link_secret": LINK_SECRET,
            "public_base_url": BASE,
            "log_json": False,
            "nps_sample_percent": 100.0,
            # Rounds only when a test opens one, for a window of seconds: under a schedule
            # such a window would cut a scheduled period (refused).
            "nps_schedule": "off",
            **overrides,
        }
        app = create_app(FeedbackSettings(**values))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        site = Site(app, client, identity)
        made.append(site)
        return site

    yield make
    for site in made:
        await site.client.aclose()
        await site.database.dispose()


@pytest.fixture
async def site(make_site: MakeSite) -> Site:
    made: Site = await make_site()
    return made
