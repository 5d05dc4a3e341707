"""The delivery loop choosing a customer's channel (preferred, fallback order, a channel that
refused the message for good), holding SMS for the quiet hours, telling a team's group chat
without the customer's contacts, waiting for intake, and an administrator's retry.

The senders here record what they are handed (the channels themselves are tested against
real loopback servers in ``tests/sms`` and ``tests/robots``, the whole flow in
``tests/integration/test_notify_channels.py``): what is proved here is the loop's choice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import decode
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintReceived,
    ComplaintResolved,
    NotificationFailed,
    NotificationSent,
    SlaBreached,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import Database, OutboxMessage, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import Conflict
from complaint_runtime.identity import ServiceCaller
from complaint_runtime.testing import envelope_of, record_of, sqlite_database
from notify.adapters.channels import OutgoingEmail, SendError
from notify.adapters.internal_api import InternalApi
from notify.adapters.outgoing import OutgoingRobotNotice, OutgoingSms, SendReceipt
from notify.config import NotifySettings
from notify.deliveries import service
from notify.deliveries.db import Delivery
from notify.deliveries.loop import DeliveryLoop
from notify.messages.domain.directory import parse_directory
from notify.teams.db import upsert_facts
from sqlalchemy import select

EMAIL = "zhang.wei@example.com"
PHONE = "+8613812345678"
DIRECTORY = parse_directory(
    json.dumps(
        {
            "users": {"lead-wang": {"email": "wang.lei@corp.example", "language": "en"}},
            "team_leads": {"billing": "lead-wang"},
        }
    ),
    default_language="zh-CN",
)


@dataclass
class Recorded:
    """A sender that records what it is handed and answers what the test queued."""

    channel: str
    sent: list[Any] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)
    teams: frozenset[str] = frozenset({"billing"})

    async def send(self, message: Any) -> SendReceipt:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SendReceipt(channel=self.channel, provider_message_id=f"biz-{len(self.sent)}")  # type: ignore[arg-type]

    def channel_for(self, team: str | None) -> str | None:
        return self.channel if team in self.teams else None

    async def aclose(self) -> None:
        """Nothing held."""


@dataclass
class RecordedEmail:
    name: str = "email"
    sent: list[OutgoingEmail] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)

    async def send(self, email: OutgoingEmail) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(email)

    async def aclose(self) -> None:
        """Nothing held."""


@dataclass
class Intake:
    """intake's internal contact API (checking notify's token), down on request."""

    identity: DevIdentity
    contact: dict[str, Any] = field(
        default_factory=lambda: {
            "complaint_id": COMPLAINT_ID,
            "reference": "C-20261123-000042",
            "name": "张伟",
            "email": EMAIL,
            "phone": PHONE,
            "language": "zh-CN",
            "preferred_channel": "sms",
            "tracking_url": "https://track.example.com/c/abc",
            "timezone": "Asia/Shanghai",
            "priority": "P3",
        }
    )
    down: bool = False
    calls: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        called = self.identity.verifier("intake")
        assert called.verify(request.headers["Authorization"][7:]).service == "notify"
        if request.url.path == "/internal/v1/contacts/lookup":
            return httpx.Response(200, json={"contacts": [self.contact], "not_found": []})
        return httpx.Response(200, json=self.contact)


@dataclass
class Harness:
    database: Database
    intake: Intake
    email: RecordedEmail = field(default_factory=RecordedEmail)
    sms: Recorded = field(default_factory=lambda: Recorded("sms"))
    robots: Recorded = field(default_factory=lambda: Recorded("wecom"))
    now: datetime = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

    def loop(self, **overrides: Any) -> DeliveryLoop:
        values = {
            **{k.lower(): v for k, v in self.intake.identity.env("notify").items()},
            "notify_retry_backoff_s": 0.01,
            "notify_retry_backoff_max_s": 0.02,
            "ack_wait_for_due_s": 0,
        } | overrides
        api = InternalApi(
            intake_url="http://intake.internal",
            feedback_url="http://feedback.internal",
            caller=ServiceCaller(self.intake.identity.services["notify"]),
            timeout_s=2.0,
            transport=httpx.MockTransport(self.intake.handle),
        )
        return DeliveryLoop(
            database=self.database,
            settings=NotifySettings(**values),
            api=api,
            channel=self.email,
            directory=DIRECTORY,
            sms=self.sms,
            robots=self.robots,
            clock=lambda: self.now,
        )

    async def record(
        self, data: EventData, topic: topics.Topic, *, team_chat: bool = False
    ) -> None:
        envelope = envelope_of(record_of(data, topic, subject=COMPLAINT_ID))
        async with self.database.unit_of_work() as uow:
            await service.record_deliveries(
                uow=uow, envelope=envelope, now=self.now - timedelta(seconds=1), team_chat=team_chat
            )

    async def rows(self) -> list[Delivery]:
        async with self.database.sessions() as session:
            return list(await session.scalars(select(Delivery).order_by(Delivery.created_at)))

    async def events(self) -> list[EventData]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]


@pytest.fixture
async def harness(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[Harness]:
    database = await sqlite_database(tmp_path / "notify.db", "notify")
    harness = Harness(database, Intake(identity))
    async with database.unit_of_work() as uow:
        await uow.session.run_sync(
            upsert_facts,
            [
                {
                    "complaint_id": COMPLAINT_ID,
                    "team": "billing",
                    "reference": "C-20261123-000042",
                    "priority": "P2",
                    "updated_at": utcnow(),
                }
            ],
        )
    yield harness
    await database.dispose()


async def test_a_customer_who_prefers_sms_gets_an_sms_recorded_with_its_provider_id(
    harness: Harness,
) -> None:
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop().run_once()
    [sms] = harness.sms.sent
    assert isinstance(sms, OutgoingSms)
    assert sms.phone_number == PHONE
    assert "C-20261123-000042" in sms.text
    assert harness.email.sent == []
    [row] = await harness.rows()
    assert (row.status, row.channel, row.provider_message_id) == ("sent", "sms", "biz-1")
    assert row.recipient_masked == "138****5678"
    assert PHONE not in (row.recipient_key or "")
    [event] = await harness.events()
    assert isinstance(event, NotificationSent)
    assert (event.channel, event.recipient) == ("sms", "138****5678")


async def test_a_phone_only_customer_preferring_email_gets_an_sms(harness: Harness) -> None:
    harness.intake.contact |= {"email": None, "preferred_channel": "email"}
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop().run_once()
    assert len(harness.sms.sent) == 1
    [row] = await harness.rows()
    assert (row.status, row.channel) == ("sent", "sms")


async def test_a_preferred_channel_without_an_adapter_falls_back_in_order(
    harness: Harness,
) -> None:
    harness.intake.contact["preferred_channel"] = "wechat"
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop(notify_channel_order="email,sms").run_once()
    assert [e.to_address for e in harness.email.sent] == [EMAIL]
    assert harness.sms.sent == []


async def test_an_sms_refused_for_good_falls_back_to_email_once(harness: Harness) -> None:
    harness.sms.failures.append(SendError("isv.MOBILE_NUMBER_ILLEGAL", retryable=False))
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    loop = harness.loop()
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.failed_channels) == ("pending", ["sms"])
    await loop.run_once()
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.channel) == ("sent", "email")
    assert len(harness.email.sent) == 1  # one notice per event and recipient
    failed, sent = await harness.events()
    assert isinstance(failed, NotificationFailed)
    assert not failed.final
    assert failed.channel == "sms"
    assert isinstance(sent, NotificationSent)
    assert sent.channel == "email"


async def test_a_customer_no_channel_reaches_is_skipped_as_no_channel(harness: Harness) -> None:
    harness.intake.contact |= {"email": None, "phone": None}
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert row.status == "skipped"
    assert "no e-mail address" in (row.last_error or "")
    assert "no phone number" in (row.last_error or "")
    [event] = await harness.events()
    assert isinstance(event, NotificationFailed)
    assert event.reason == "no_channel"


async def test_a_non_urgent_sms_at_night_is_held_until_eight_then_sent(harness: Harness) -> None:
    harness.now = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    loop = harness.loop()
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "pending"
    assert row.next_attempt_at == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
    assert row.attempts == 0  # holding is no attempt
    assert harness.sms.sent == []
    assert await harness.events() == []
    harness.now = datetime(2026, 12, 8, 0, 0, 1, tzinfo=UTC)
    await loop.run_once()
    assert len(harness.sms.sent) == 1


async def test_a_p1_complaint_and_e_mail_are_not_held_at_night(harness: Harness) -> None:
    harness.now = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    harness.intake.contact["priority"] = "P1"
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    await harness.loop().run_once()
    assert len(harness.sms.sent) == 1


async def test_a_team_chat_card_is_written_without_reading_the_customer(harness: Harness) -> None:
    await harness.record(example_for(SlaBreached), topics.SLA, team_chat=True)
    await harness.loop().run_once()
    [card] = harness.robots.sent
    assert isinstance(card, OutgoingRobotNotice)
    assert card.team == "billing"
    text = card.notice.title + " ".join(card.notice.lines)
    assert "C-20261123-000042" in text
    assert card.notice.severity == "critical"
    assert card.notice.case_url.endswith(COMPLAINT_ID)
    assert "张伟" not in text
    assert "zhang" not in text
    assert "5678" not in text
    assert harness.intake.calls == 0  # staff notices never fetch customer contacts
    rows = {row.recipient_role: row for row in await harness.rows()}
    assert (rows["team_chat"].status, rows["team_chat"].channel) == ("sent", "wecom")
    assert rows["team_chat"].recipient_masked == "team:billing"
    assert rows["team_lead"].status == "sent"  # the lead's e-mail as before


async def test_a_team_without_a_robot_is_skipped_with_the_reason(harness: Harness) -> None:
    harness.robots.teams = frozenset()
    assigned = example_for(ComplaintAssigned).model_copy(update={"assignee": "agent-li"})
    await harness.record(assigned, topics.ROUTING, team_chat=True)
    await harness.loop().run_once()
    [row] = [r for r in await harness.rows() if r.recipient_role == "team_chat"]
    assert row.status == "skipped"
    assert "no group-chat robot is configured for team" in (row.last_error or "")


async def test_intake_down_makes_a_delivery_wait_past_the_window_not_fail(
    harness: Harness,
) -> None:
    harness.intake.down = True
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop(notify_retry_window_s=0.001, notify_dependency_retry_max_s=5)
    for _ in range(3):
        await loop.run_once()
        harness.now += timedelta(seconds=10)
    [row] = await harness.rows()
    assert row.status == "pending"
    assert "waiting: intake unreachable" in (row.last_error or "")
    assert row.first_attempt_at is None  # nothing was sent: the window has not started
    assert await harness.events() == []
    harness.intake.down = False
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "sent"


async def test_an_administrator_retries_a_failed_delivery_but_never_an_uncertain_one(
    harness: Harness,
) -> None:
    harness.intake.contact |= {"email": None, "phone": None}
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = harness.loop()
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "skipped"
    harness.intake.contact["phone"] = PHONE  # the contact was corrected meanwhile
    retried = await service.retry_delivery(
        database=harness.database, delivery_id=row.delivery_id, now=harness.now
    )
    assert retried.status == "pending"
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.channel) == ("sent", "sms")
    with pytest.raises(Conflict, match="only failed or skipped"):
        await service.retry_delivery(
            database=harness.database, delivery_id=row.delivery_id, now=harness.now
        )
    harness.sms.failures.append(SendError("no answer", retryable=False, uncertain=True))
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    await loop.run_once()
    uncertain = next(r for r in await harness.rows() if r.template == "resolution")
    assert uncertain.status == "uncertain"
    with pytest.raises(Conflict, match="may have reached the recipient"):
        await service.retry_delivery(
            database=harness.database, delivery_id=uncertain.delivery_id, now=harness.now
        )


async def test_a_staff_notice_waits_a_moment_for_the_complaint_s_facts(
    harness: Harness,
) -> None:
    other = "0196f7a2-0000-7000-8000-0000000000cc"  # sla-watch's breach came first
    envelope = envelope_of(record_of(example_for(SlaBreached), topics.SLA, subject=other))
    async with harness.database.unit_of_work() as uow:
        await service.record_deliveries(uow=uow, envelope=envelope, now=harness.now, team_chat=True)
    loop = harness.loop()
    await loop.run_once()
    rows = [r for r in await harness.rows() if r.complaint_id == other]
    assert {r.status for r in rows} == {"pending"}
    assert all(
        "waiting for the complaint's reference and team" in (r.last_error or "") for r in rows
    )
    assert all(r.attempts == 0 for r in rows)  # waiting is no attempt
    # The assignment arrives on routing's topic: the notices go with its facts.
    async with harness.database.unit_of_work() as uow:
        await uow.session.run_sync(
            upsert_facts,
            [
                {
                    "complaint_id": other,
                    "team": "billing",
                    "reference": "C-2",
                    "updated_at": utcnow(),
                }
            ],
        )
    harness.now += timedelta(seconds=2)
    await loop.run_once()
    rows = {r.recipient_role: r for r in await harness.rows() if r.complaint_id == other}
    assert (rows["team_lead"].status, rows["team_chat"].status) == ("sent", "sent")
    assert "C-2" in harness.robots.sent[0].notice.title + " ".join(
        harness.robots.sent[0].notice.lines
    )


async def test_a_staff_notice_goes_without_the_facts_after_the_wait(harness: Harness) -> None:
    other = "0196f7a2-0000-7000-8000-0000000000dd"
    envelope = envelope_of(record_of(example_for(SlaBreached), topics.SLA, subject=other))
    async with harness.database.unit_of_work() as uow:
        await service.record_deliveries(uow=uow, envelope=envelope, now=harness.now, team_chat=True)
    harness.now += timedelta(seconds=61)
    await harness.loop().run_once()
    rows = {r.recipient_role: r for r in await harness.rows() if r.complaint_id == other}
    # Without a team there is no lead and no group chat to tell: recorded, not retried.
    assert rows["team_lead"].status == "skipped"
    assert rows["team_chat"].status == "skipped"
    assert "no team yet" in (rows["team_chat"].last_error or "")


async def test_while_it_is_sent_the_row_already_says_where_it_goes(harness: Harness) -> None:
    """A crash during the send leaves the row ``sending`` (then uncertain): it names the
    channel and the masked recipient it went to."""
    seen: list[tuple[str, str | None, str | None]] = []
    send = harness.sms.send

    async def looking(message: Any) -> SendReceipt:
        [row] = await harness.rows()
        seen.append((row.status, row.channel, row.recipient_masked))
        return await send(message)

    harness.sms.send = looking  # type: ignore[method-assign]
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    await harness.loop().run_once()
    assert seen == [("sending", "sms", "138****5678")]


async def test_an_error_other_than_the_channel_s_answer_during_a_send_is_uncertain(
    harness: Harness,
) -> None:
    """E.g. a provider that took the SMS and answered a body that cannot be decoded: it may
    have gone, so it is neither repeated nor handed to e-mail."""

    async def broken(message: Any) -> SendReceipt:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    harness.sms.send = broken  # type: ignore[method-assign]
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    loop = harness.loop()
    await loop.run_once()
    await loop.run_once()
    [row] = await harness.rows()
    assert (row.status, row.channel, row.failed_channels) == ("uncertain", "sms", None)
    assert "UnicodeDecodeError during the send" in (row.last_error or "")
    assert harness.email.sent == []


async def test_a_robot_s_refusal_is_reported_on_the_robot_s_channel(harness: Harness) -> None:
    harness.robots.failures.append(SendError("93000 invalid webhook key", retryable=False))
    await harness.record(example_for(SlaBreached), topics.SLA, team_chat=True)
    await harness.loop().run_once()
    [row] = [r for r in await harness.rows() if r.recipient_role == "team_chat"]
    assert (row.status, row.channel) == ("failed", "wecom")
    [failed] = [e for e in await harness.events() if isinstance(e, NotificationFailed)]
    assert failed.channel == "wecom"
    assert failed.recipient_role == "team_chat"


async def test_an_outcome_not_recorded_is_recovered_by_the_same_process(
    harness: Harness,
) -> None:
    """With one notify only: its own claims are recovered once it took a new claimer id."""
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    loop = harness.loop(notify_sending_lease_s=0)
    recorder = loop._outcomes
    finish_sent = recorder.finish_sent
    calls = 0

    async def database_down_once(**kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database unreachable")
        await finish_sent(**kwargs)

    recorder.finish_sent = database_down_once  # type: ignore[method-assign]
    first_claimer = loop.instance_id
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "sending"
    assert loop.instance_id != first_claimer
    harness.now += timedelta(seconds=1)
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "uncertain"  # it went out (the SMS was taken): never resent
    assert len(harness.sms.sent) == 1
