"""The delivery loop's harness for the message tests: notify's real migrations on SQLite,
the handler table main.py builds from a staff directory, a real SMTP server (aiosmtpd) and
intake's internal contact API faked (customers' contacts only: staff notices are written
from what notify recorded of the complaint from its events, see :meth:`Harness.learn`)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.examples import COMPLAINT_ID
from complaint_runtime.consumer import Handler
from complaint_runtime.database import Database, OutboxMessage, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.identity import ServiceCaller
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.testing import envelope_of, record_of
from notify import messaging
from notify.adapters.channels import SmtpChannel
from notify.adapters.internal_api import InternalApi
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.deliveries.db import Delivery
from notify.deliveries.loop import DeliveryLoop
from notify.main import MIGRATIONS
from notify.messages.domain.directory import parse_directory
from notify.teams import service as teams
from sqlalchemy import select

ORIGINAL_ID = "0196f7a2-0000-7000-8000-0000000000aa"
CUSTOMER_EMAIL = "zhang.wei@example.com"
GROUP = ["senior-zhou", "senior-wu", "senior-nomail"]
DIRECTORY_JSON: dict[str, Any] = {
    "users": {
        "lead-wang": {"email": "wang.lei@corp.example", "name": "Wang", "language": "en"},
        "mgr-sun": {"email": "sun.li@corp.example", "name": "孙丽", "language": "zh-CN"},
        "senior-zhou": {"email": "zhou@corp.example", "name": "Zhou", "language": "en"},
        "senior-wu": {"email": "wu@corp.example", "name": "吴", "language": "zh-CN"},
        "senior-nomail": {"name": "No Mail"},
    },
    "team_leads": {"billing": "lead-wang"},
    "managers": {"billing": "mgr-sun"},
    "escalation_group": GROUP,
}
DIRECTORY = parse_directory(json.dumps(DIRECTORY_JSON))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    messages: list[EmailMessage] = field(default_factory=list)
    rcpts: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, r in zip(self.messages, self.rcpts, strict=True) if r == [address]]


@dataclass
class FakeIntake:
    """intake's internal contact API: the duplicate's customer and the standing complaint
    (notify's token for intake only, as intake checks it)."""

    identity: DevIdentity
    calls: list[str] = field(default_factory=list)

    def contact(self, complaint_id: str, reference: str, token: str) -> dict[str, Any]:
        return {
            "complaint_id": complaint_id,
            "reference": reference,
            "name": "张伟",
            "email": CUSTOMER_EMAIL,
            "phone": None,
            "language": "en",
            "preferred_channel": "email",
            "tracking_url": f"https://track.example.com/c/{token}",
            "team": "billing",
            "assignee": "agent-li",
            "priority": "P1",
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        principal = self.identity.verifier("intake").verify(request.headers["Authorization"][7:])
        assert principal.service == "notify"
        if request.url.path == f"/internal/v1/complaints/{COMPLAINT_ID}/contact":
            return httpx.Response(200, json=self.contact(COMPLAINT_ID, "C-20261123-000042", "dup"))
        if request.url.path == f"/internal/v1/complaints/{ORIGINAL_ID}/contact":
            return httpx.Response(200, json=self.contact(ORIGINAL_ID, "C-20261120-000007", "orig"))
        return httpx.Response(404, json={"title": "not found"})


@dataclass
class Harness:
    database: Database
    intake: FakeIntake
    sink: SmtpSink
    port: int
    handlers: dict[type[EventData], Handler]

    def loop(self) -> DeliveryLoop:
        identity = self.intake.identity
        settings = NotifySettings(
            **{k.lower(): v for k, v in identity.env("notify").items()},
            smtp_port=self.port,
            smtp_timeout_s=5.0,
            notify_staff_case_url="https://staff.example.com/cases/{complaint_id}",
        )
        api = InternalApi(
            intake_url="http://intake.internal",
            feedback_url="http://feedback.internal",
            caller=ServiceCaller(identity.services["notify"]),
            timeout_s=2.0,
            transport=httpx.MockTransport(self.intake.handle),
        )
        channel = SmtpChannel(
            host="127.0.0.1", port=self.port, sender=settings.smtp_from, timeout_s=5.0
        )
        return DeliveryLoop(
            database=self.database, settings=settings, api=api, channel=channel, directory=DIRECTORY
        )

    async def consume(self, data: EventData, topic: topics.Topic) -> Envelope:
        """Through the handlers main.py builds from the directory."""
        envelope = envelope_of(record_of(data, topic, subject=COMPLAINT_ID))
        async with self.database.unit_of_work() as uow:
            await self.handlers[type(data)](uow, envelope)
        return envelope

    async def learn(
        self,
        *,
        reference: str | None = "C-20261123-000042",
        team: str | None = "billing",
        assignee: str | None = "agent-li",
        priority: str | None = "P1",
    ) -> None:
        """What notify's consumer records of the complaint from its events, without their
        own deliveries: the reference (``complaint.received``), team and assignee
        (``complaint.assigned``), priority (``complaint.triaged``). Staff notices show
        these; None: that event never came."""
        now = utcnow()
        async with self.database.unit_of_work() as uow:
            if reference is not None:
                await teams.record_reference(
                    uow=uow, complaint_id=COMPLAINT_ID, reference=reference, at=now
                )
            if team is not None:
                await teams.record_team(
                    uow=uow, complaint_id=COMPLAINT_ID, team=team, assignee=assignee, at=now
                )
            if priority is not None:
                await teams.record_priority(
                    uow=uow, complaint_id=COMPLAINT_ID, priority=priority, at=now
                )

    async def rows(self) -> list[Delivery]:
        async with self.database.sessions() as session:
            return list(await session.scalars(select(Delivery).order_by(Delivery.created_at)))

    async def events(self) -> list[EventData]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]


@pytest.fixture
async def harness(
    tmp_path: Path, build_deps: Callable[..., Dependencies], identity: DevIdentity
) -> AsyncIterator[Harness]:
    url = f"sqlite+aiosqlite:///{tmp_path}/notify.db"
    await upgrade_to_head(MIGRATIONS, url)  # the real migrations: 0002's unique key
    database = Database(url)
    handlers = messaging.handlers(build_deps(notify_staff_directory=json.dumps(DIRECTORY_JSON)))
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Harness(database, FakeIntake(identity), sink, port, handlers)
    finally:
        controller.stop()
        await database.dispose()
