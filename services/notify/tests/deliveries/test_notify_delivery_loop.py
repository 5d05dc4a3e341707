"""The delivery loop against a real SMTP server (aiosmtpd on 127.0.0.1) and fake internal
APIs: sent once and recorded, retried on outages, never resent after a crash."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from aiosmtpd.controller import Controller
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintConfirmationRequested,
    ComplaintReceived,
    ComplaintResolved,
    NotificationFailed,
    NotificationSent,
    SlaBreached,
    SlaWarning,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_contracts.privacy import find_contacts
from complaint_runtime.database import Database, OutboxMessage, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.identity import ServiceCaller
from complaint_runtime.testing import envelope_of, record_of, sqlite_database
from notify.adapters.channels import LogChannel, SmtpChannel
from notify.adapters.internal_api import InternalApi
from notify.config import NotifySettings
from notify.deliveries import service
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.deliveries.loop import DeliveryLoop
from notify.deliveries.service import UNCERTAIN_ERROR
from notify.messages.domain.directory import parse_directory
from notify.teams.db import upsert_facts
from prometheus_client import REGISTRY
from sqlalchemy import select

CUSTOMER_EMAIL = "zhang.wei@example.com"
CUSTOMER_PHONE = "13812345678"
DIRECTORY = parse_directory(
    json.dumps(
        {
            "users": {
                "agent-li": {"email": "li.na@corp.example", "name": "李娜", "language": "zh-CN"},
                "lead-wang": {"email": "wang.lei@corp.example", "name": "Wang", "language": "en"},
                "agent-nomail": {"name": "No Mail"},
            },
            "team_leads": {"billing": "lead-wang"},
        }
    )
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """aiosmtpd handler: keeps what it accepted; can refuse or stall on demand."""

    messages: list[EmailMessage] = field(default_factory=list)
    rcpts: list[list[str]] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)  # consumed first, then 250
    rcpt_reply: str | None = None
    stall_s: float = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stall_s:
            await asyncio.sleep(self.stall_s)
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class FakeServices:
    """intake's and feedback's internal APIs, checking notify's token like they do (for
    the service called: ``intake.internal`` is intake). intake answers the batch contact
    lookup too, unless ``batch`` is off (an older intake); ``others`` are the contacts of
    further complaints it knows."""

    identity: DevIdentity

    contact: dict[str, Any] = field(
        default_factory=lambda: {
            "complaint_id": COMPLAINT_ID,
            "reference": "C-20261123-000042",
            "name": "张伟",
            "email": CUSTOMER_EMAIL,
            "phone": CUSTOMER_PHONE,
            "language": "zh-CN",
            "preferred_channel": "email",
            "tracking_url": "https://track.example.com/c/abc",
            "team": "billing",
            "assignee": "agent-li",
        }
    )
    others: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    status: int = 200
    batch: bool = True
    calls: list[str] = field(default_factory=list)
    looked_up: list[list[str]] = field(default_factory=list)  # each batch lookup's ids

    def known(self) -> dict[str, dict[str, Any]]:
        return {COMPLAINT_ID: self.contact} | self.others

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        called = self.identity.verifier(request.url.host.split(".")[0])
        assert called.verify(request.headers["Authorization"][7:]).service == "notify"
        if self.status != 200:
            return httpx.Response(self.status, json={"title": "nope"})
        path = request.url.path
        known = self.known()
        if path == "/internal/v1/contacts/lookup" and self.batch:
            asked: list[str] = json.loads(request.content)["complaint_ids"]
            self.looked_up.append(asked)
            return httpx.Response(
                200,
                json={
                    "contacts": [known[i] for i in asked if i in known],
                    "not_found": [i for i in asked if i not in known],
                },
            )
        prefix, suffix = "/internal/v1/complaints/", "/contact"
        if path.startswith(prefix) and path.endswith(suffix):
            complaint_id = path.removeprefix(prefix).removesuffix(suffix)
            if complaint_id in known:
                return httpx.Response(200, json=known[complaint_id])
        if path.startswith("/internal/v1/confirmation-requests/"):
            return httpx.Response(
                200,
                json={
                    "survey_url": "https://survey.example.com/s/signed-xyz",
                    "expires_at": "2026-11-30T10:00:00+00:00",
                    "reference": "C-20261123-000042",
                    "language": "zh-CN",
                },
            )
        return httpx.Response(404, json={"title": "not found"})

    def notify_settings(self) -> dict[str, str]:
        """notify's AUTH_JWKS and own AUTH_SIGNING_KEY, as settings arguments."""
        return {k.lower(): v for k, v in self.identity.env("notify").items()}

    def api(self, *, timeout_s: float = 2.0) -> InternalApi:
        """notify's client of these services, signing with notify's key."""
        return InternalApi(
            intake_url="http://intake.internal",
            feedback_url="http://feedback.internal",
            caller=ServiceCaller(self.identity.services["notify"]),
            timeout_s=timeout_s,
            transport=httpx.MockTransport(self.handle),
        )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "notify.db", "notify")
    yield db
    await db.dispose()


@pytest.fixture
def services(identity: DevIdentity) -> FakeServices:
    return FakeServices(identity)


@dataclass
class Harness:
    database: Database
    services: FakeServices
    sink: SmtpSink
    port: int

    def loop(self, channel: Any = None, **overrides: Any) -> DeliveryLoop:
        values: dict[str, Any] = {
            **self.services.notify_settings(),
            "smtp_port": self.port,
            "smtp_timeout_s": 5.0,
            "notify_retry_backoff_s": 0.01,
            "notify_retry_backoff_max_s": 0.02,
            "notify_retry_window_s": 0.3,
        } | overrides
        settings = NotifySettings(**values)
        api = self.services.api()
        channel = channel or SmtpChannel(
            host="127.0.0.1",
            port=settings.smtp_port,
            sender=settings.smtp_from,
            timeout_s=settings.smtp_timeout_s,
        )
        return DeliveryLoop(
            database=self.database, settings=settings, api=api, channel=channel, directory=DIRECTORY
        )

    async def record(self, data: EventData, topic: topics.Topic) -> Envelope:
        envelope = envelope_of(record_of(data, topic, subject=COMPLAINT_ID))
        async with self.database.unit_of_work() as uow:
            await service.record_deliveries(uow=uow, envelope=envelope, now=utcnow())
        return envelope

    async def facts(self, **values: str) -> None:
        """What notify recorded of the complaint from its events (staff notices read it)."""
        async with self.database.unit_of_work() as uow:
            await uow.session.run_sync(
                upsert_facts, [{"complaint_id": COMPLAINT_ID, **values, "updated_at": utcnow()}]
            )

    async def rows(self) -> list[Delivery]:
        async with self.database.sessions() as session:
            return list(await session.scalars(select(Delivery).order_by(Delivery.created_at)))

    async def events(self) -> list[tuple[OutboxMessage, Envelope]]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [
            (row, decode(row.key, row.value, [(n, v.encode()) for n, v in row.headers]))
            for row in rows
        ]


@pytest.fixture
async def harness(
    database: Database, services: FakeServices, smtp: tuple[SmtpSink, int]
) -> Harness:
    harness = Harness(database, services, *smtp)
    await harness.facts(team="billing", reference="C-20261123-000042", assignee="agent-li")
    return harness


def _assigned() -> EventData:
    return example_for(ComplaintAssigned).model_copy(update={"assignee": "agent-li"})


def assert_no_raw_contacts(events: list[tuple[OutboxMessage, Envelope]]) -> None:
    for row, _ in events:
        text = row.value.decode() + json.dumps(row.headers, ensure_ascii=False)
        assert not find_contacts(text), text
        assert CUSTOMER_EMAIL not in text
        assert CUSTOMER_PHONE not in text


async def test_acknowledgement_goes_through_smtp_and_is_recorded_sent(harness: Harness) -> None:
    cause = await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop()
    assert await loop.run_once() == 1

    [message] = harness.sink.messages
    [row] = await harness.rows()
    assert harness.sink.rcpts == [[CUSTOMER_EMAIL]]
    assert message["Message-ID"] == f"<{row.delivery_id}@opencomplaints>"
    assert "C-20261123-000042" in message["Subject"]
    body = message.get_content()
    assert "我们将尽快回复您" in body  # this intake names no due time and expects none
    assert "https://track.example.com/c/abc" in body
    assert "张伟" in body

    assert (row.status, row.attempts, row.channel) == ("sent", 1, "email")
    assert row.recipient_masked == "z***@example.com"
    assert row.recipient_key
    assert CUSTOMER_EMAIL not in row.recipient_key
    [(_, event)] = await harness.events()
    assert isinstance(event.data, NotificationSent)
    assert event.data.notification_id == row.delivery_id
    assert event.data.recipient == "z***@example.com"
    assert (event.data.cause_event_id, event.data.template) == (cause.id, "acknowledgement")
    assert event.subject == COMPLAINT_ID

    assert await loop.run_once() == 0  # nothing left: sent once
    assert len(harness.sink.messages) == 1


async def test_every_kind_reaches_its_recipient_without_raw_contacts_in_events(
    harness: Harness,
) -> None:
    for data, topic in [
        (example_for(ComplaintReceived), topics.INTAKE),
        (_assigned(), topics.ROUTING),
        (example_for(ComplaintResolved), topics.ROUTING),
        (example_for(SlaWarning), topics.SLA),
        (example_for(SlaBreached), topics.SLA),
        (example_for(ComplaintConfirmationRequested), topics.FEEDBACK),
    ]:
        await harness.record(data, topic)
    await harness.loop().run_once()

    rows = {row.template: row for row in await harness.rows()}
    assert {row.status for row in rows.values()} == {"sent"}
    to = {m["Subject"]: r for m, r in zip(harness.sink.messages, harness.sink.rcpts, strict=True)}
    assert sorted(r[0] for r in to.values()) == sorted(
        [CUSTOMER_EMAIL] * 3 + ["li.na@corp.example"] + ["wang.lei@corp.example"] * 2
    )
    assert rows["sla_breach"].recipient_user == "lead-wang"
    assert rows["sla_breach"].language == "en"
    survey = next(
        m for m in harness.sink.messages if "confirm" in m["Subject"] or "确认" in m["Subject"]
    )
    assert "https://survey.example.com/s/signed-xyz" in survey.get_content()
    events = await harness.events()
    assert len(events) == 6
    assert all(isinstance(e.data, NotificationSent) for _, e in events)
    assert_no_raw_contacts(events)


async def test_smtp_down_is_retried_with_backoff_then_failed(harness: Harness) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop(smtp_port=free_port())  # nothing listens there
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.first_attempt_at is not None  # the retry window (0.3 s here) starts
    assert row.next_attempt_at > row.updated_at - timedelta(seconds=1)
    for _ in range(20):
        await asyncio.sleep(0.03)
        await loop.run_once()
    [row] = await harness.rows()
    # Retried (full jitter under a 0.02 s cap) until the window closed; then e-mail has
    # failed for good and, with no other channel for this customer, the delivery too.
    assert row.status == "failed"
    assert row.failed_channels == ["email"]
    assert row.attempts > 2
    assert row.finished_at is not None
    assert (row.finished_at - row.first_attempt_at).total_seconds() >= 0.3
    assert "email: failed for good" in (row.last_error or "")
    failures = [e.data for _, e in await harness.events()]
    assert all(isinstance(f, NotificationFailed) for f in failures)
    assert [f.final for f in failures] == [False] * (len(failures) - 1) + [True]  # type: ignore[union-attr]
    assert all("SMTP unavailable" in f.error for f in failures[:-1])  # type: ignore[union-attr]
    assert failures[-1].reason == "no_channel"  # type: ignore[union-attr]
    assert failures[0].next_attempt_at is not None  # type: ignore[union-attr]
    assert harness.sink.messages == []
    assert_no_raw_contacts(await harness.events())


async def test_a_4xx_answer_is_retried_and_the_message_then_sent_once(harness: Harness) -> None:
    harness.sink.data_replies.append("451 4.3.0 Try again later")
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop()
    await loop.run_once()
    await asyncio.sleep(0.03)
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(harness.sink.messages) == 1
    kinds = [type(e.data).__name__ for _, e in await harness.events()]
    assert kinds == ["NotificationFailed", "NotificationSent"]


async def test_a_refused_recipient_fails_at_once_with_the_address_masked(harness: Harness) -> None:
    harness.sink.rcpt_reply = f"550 5.1.1 <{CUSTOMER_EMAIL}> no such user"
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop()
    await loop.run_once()
    [row] = await harness.rows()
    # Refused for good by e-mail: the next channel is looked for at once ...
    assert (row.status, row.failed_channels) == ("pending", ["email"])
    assert CUSTOMER_EMAIL not in (row.last_error or "")
    assert "z***@example.com" in (row.last_error or "")
    await loop.run_once()
    [row] = await harness.rows()
    # ... and there is none (no SMS provider here): final, the customer is not reached.
    assert row.status == "failed"
    assert "email: failed for good for this message" in (row.last_error or "")
    first, final = (e.data for _, e in await harness.events())
    assert isinstance(first, NotificationFailed)
    assert not first.final
    assert "z***@example.com" in first.error
    assert isinstance(final, NotificationFailed)
    assert final.final
    assert final.reason == "no_channel"
    assert len(harness.sink.messages) == 0
    assert_no_raw_contacts(await harness.events())


async def test_rows_left_sending_become_uncertain_at_start_up_and_are_never_resent(
    harness: Harness,
) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    async with harness.database.unit_of_work() as uow:  # a process began sending, then died
        repository = DeliveryRepository(uow.session)
        [claimed] = await repository.claim_due(now=utcnow(), limit=10, claimer="notify-crashed")
        assert await repository.start_transmitting(
            delivery_id=claimed.delivery_id, claimer="notify-crashed", now=utcnow()
        )
    before = REGISTRY.get_sample_value("notify_uncertain_deliveries_total") or 0.0

    patient = harness.loop()  # the default lease: a live replica might still be sending
    await patient.run_once()
    [row] = await harness.rows()
    assert row.status == "sending"

    restarted = harness.loop(notify_sending_lease_s=0)
    for _ in range(3):
        await restarted.run_once()
    [row] = await harness.rows()
    assert row.delivery_id == claimed.delivery_id
    assert (row.status, row.last_error) == ("uncertain", UNCERTAIN_ERROR)
    assert harness.sink.messages == []  # never resent
    [(_, event)] = await harness.events()
    assert isinstance(event.data, NotificationFailed)
    assert event.data.final
    assert event.data.error == UNCERTAIN_ERROR
    after = REGISTRY.get_sample_value("notify_uncertain_deliveries_total")
    assert after == before + 1


async def test_a_connection_lost_during_data_is_uncertain_not_retried(harness: Harness) -> None:
    harness.sink.stall_s = 1.0  # the server accepts it, but only after our timeout
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop(smtp_timeout_s=0.3)
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "uncertain"
    assert "outcome unknown" in (row.last_error or "")
    await asyncio.sleep(1.2)
    await loop.run_once()
    assert len(harness.sink.messages) <= 1  # at most once, even though the server took it


async def test_customer_without_email_is_skipped_with_the_reason(harness: Harness) -> None:
    harness.services.contact["email"] = None
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert row.status == "skipped"
    assert "no e-mail address" in (row.last_error or "")
    [(_, event)] = await harness.events()
    assert isinstance(event.data, NotificationFailed)
    assert event.data.final
    assert event.data.reason == "no_channel"  # routing and feedback act on it
    assert harness.sink.messages == []


async def test_a_confirmation_request_nobody_can_receive_reports_no_channel(
    harness: Harness,
) -> None:
    """Decision (unreachable customers): a phone-only customer's survey invitation and its
    reminder each end in notification.failed, reason no_channel, naming the request event."""
    harness.services.contact["email"] = None
    request = example_for(ComplaintConfirmationRequested)
    await harness.record(request, topics.FEEDBACK)
    await harness.record(request.model_copy(update={"reminder": True}), topics.FEEDBACK)
    await harness.loop().run_once()
    assert {row.status for row in await harness.rows()} == {"skipped"}
    failures = [event.data for _, event in await harness.events()]
    assert len(failures) == 2
    for failed in failures:
        assert isinstance(failed, NotificationFailed)
        assert (failed.reason, failed.final, failed.template) == (
            "no_channel",
            True,
            "survey_invitation",
        )
        assert failed.cause_event_type == ComplaintConfirmationRequested.ce_type()
    assert harness.sink.messages == []


@pytest.mark.parametrize(
    ("assignee", "team", "reason"),
    [
        ("agent-unknown", "billing", "not in the staff directory"),
        ("agent-nomail", "billing", "no e-mail address"),
    ],
)
async def test_staff_missing_from_the_directory_is_skipped(
    harness: Harness, assignee: str, team: str, reason: str
) -> None:
    await harness.record(
        example_for(ComplaintAssigned).model_copy(update={"assignee": assignee, "team": team}),
        topics.ROUTING,
    )
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert row.status == "skipped"
    assert reason in (row.last_error or "")
    [(_, event)] = await harness.events()
    assert isinstance(event.data, NotificationFailed)
    assert event.data.reason is None  # staff's gaps are not the customer's reach


async def test_a_team_without_a_lead_is_skipped(harness: Harness) -> None:
    await harness.facts(team="logistics")
    await harness.record(example_for(SlaWarning), topics.SLA)
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert row.status == "skipped"
    assert "no team lead configured for team logistics" in (row.last_error or "")


async def test_intake_down_is_transient_and_retried(harness: Harness) -> None:
    harness.services.down = True
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop()
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "intake unreachable" in (row.last_error or "")
    harness.services.down = False
    await asyncio.sleep(0.03)
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "sent"
    assert len(harness.sink.messages) == 1


async def test_unknown_complaint_at_intake_is_skipped(harness: Harness) -> None:
    harness.services.status = 404
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert row.status == "skipped"


async def test_log_channel_sends_nothing_and_says_so(harness: Harness) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop(channel=LogChannel()).run_once()
    [row] = await harness.rows()
    assert (row.status, row.channel) == ("logged", "log")
    assert harness.sink.messages == []
    [(_, event)] = await harness.events()
    assert isinstance(event.data, NotificationFailed)
    assert event.data.final
    assert "NOTIFY_CHANNEL=log" in event.data.error
    assert_no_raw_contacts(await harness.events())


async def test_the_loop_runs_in_the_background_and_stops(harness: Harness) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop(notify_poll_interval_s=0.05)
    task = asyncio.create_task(loop.run())
    for _ in range(100):
        if harness.sink.messages:
            break
        await asyncio.sleep(0.05)
    loop.stop()
    await asyncio.wait_for(task, timeout=5)
    assert len(harness.sink.messages) == 1


async def test_claims_abandoned_before_transmitting_are_sent_after_the_lease(
    harness: Harness,
) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    async with harness.database.unit_of_work() as uow:  # claimed, then died while preparing
        [claimed] = await DeliveryRepository(uow.session).claim_due(
            now=utcnow(), limit=10, claimer="notify-crashed"
        )
    patient = harness.loop()  # within the lease the claim is left alone
    await patient.run_once()
    [row] = await harness.rows()
    assert row.status == "preparing"
    assert harness.sink.messages == []

    restarted = harness.loop(notify_sending_lease_s=0)
    for _ in range(3):
        await restarted.run_once()
    [row] = await harness.rows()
    assert row.delivery_id == claimed.delivery_id
    assert row.status == "sent"
    assert len(harness.sink.messages) == 1  # sent once, nothing lost


async def test_a_failed_round_is_retried_under_a_new_claimer_like_a_restart(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop(notify_poll_interval_s=0.05)
    claimers: list[str] = []
    claim_due = service.claim_due

    async def database_down_once(**kwargs: Any) -> list[Delivery]:
        claimers.append(kwargs["claimer"])
        if len(claimers) == 1:
            raise ConnectionError("database unavailable")
        return await claim_due(**kwargs)

    monkeypatch.setattr(service, "claim_due", database_down_once)
    task = asyncio.create_task(loop.run())
    for _ in range(100):
        if harness.sink.messages:
            break
        await asyncio.sleep(0.05)
    loop.stop()
    await asyncio.wait_for(task, timeout=5)
    assert len(harness.sink.messages) == 1
    [row] = await harness.rows()
    assert row.status == "sent"
    # Rows the failed round might have claimed are someone else's now: recovered after
    # the lease, never sent by this run.
    assert claimers[0] != row.claimed_by == claimers[-1]


async def test_the_outcomes_of_a_round_share_one_transaction(harness: Harness) -> None:
    """Outcomes finishing together (a round's concurrent sends) are recorded in one shared
    transaction (group commit), each with its own event, none lost."""
    for _ in range(5):
        await harness.record(_assigned(), topics.ROUTING)
    loop = harness.loop()
    later = utcnow() + timedelta(seconds=5)  # past the acknowledgement's first wait
    rows = await service.claim_due(
        database=harness.database, now=later, limit=50, claimer=loop.instance_id
    )
    assert len(rows) >= 5
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    engine = harness.database.engine.sync_engine
    sqlalchemy.event.listen(engine, "commit", count)
    try:
        await asyncio.gather(
            *(
                loop._outcomes.finish_skipped(row=row, reason="test", claimer=loop.instance_id)
                for row in rows
            )
        )
    finally:
        sqlalchemy.event.remove(engine, "commit", count)
    assert len(commits) == 1
    assert {row.status for row in await harness.rows()} == {"skipped"}
    assert len(await harness.events()) == len(rows)
