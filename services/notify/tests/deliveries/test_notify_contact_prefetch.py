# ruff: noqa: F811 (the harness fixtures are imported, and named as parameters)
"""The delivery loop reads the intake contacts of a whole claimed batch in one request
(``POST /internal/v1/contacts/lookup``, each complaint once) before preparing it; each
customer message then fails exactly as its own lookup would have (intake down: it waits;
an unknown complaint: skipped, that one only; an off-contract entry: failed), an older
intake is asked one by one, and the contacts are never stored. Staff notices ask intake
nothing: they are written from notify's own facts of the complaint (``notify.teams``,
recorded from its events), so intake's answers never change them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintDuplicateLinked,
    ComplaintReceived,
    NotificationSent,
    SlaBreached,
    SlaWarning,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import NotFound
from complaint_runtime.testing import envelope_of, record_of
from notify.adapters.channels import OutgoingEmail
from notify.adapters.internal_api import CONTACT_LOOKUP_PATH
from notify.config import NotifySettings
from notify.deliveries import service
from notify.deliveries.db import Delivery
from notify.messages.rendering import Renderer
from notify.messages.service import MessagePreparer
from notify.teams import service as teams

from .test_notify_delivery_loop import (  # the fixtures too
    CUSTOMER_EMAIL,
    CUSTOMER_PHONE,
    DIRECTORY,
    FakeServices,
    Harness,
    _assigned,
    assert_no_raw_contacts,
    database,  # noqa: F401
    harness,  # noqa: F401
    smtp,  # noqa: F401
)

OTHER_ID = "0196f7a2-0000-7000-8000-0000000000bb"
OTHER_EMAIL = "li.na.customer@example.com"
REFERENCES = {COMPLAINT_ID: "C-20261123-000042", OTHER_ID: "C-20261123-000043"}
AGENT, LEAD = "li.na@corp.example", "wang.lei@corp.example"
SINGLE = "/internal/v1/complaints/{}/contact"


@dataclass
class Intake(FakeServices):
    """The loop tests' intake, whose batch lookup can also answer off-contract."""

    garbled: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.garbled and request.url.path == CONTACT_LOOKUP_PATH:
            self.calls.append(request.url.path)
            return httpx.Response(200, json=["not", "an", "object"])
        return super().handle(request)


@pytest.fixture
def services(identity: DevIdentity) -> Intake:
    return Intake(identity)


def _other_contact(**changes: Any) -> dict[str, Any]:
    return {
        "complaint_id": OTHER_ID,
        "reference": "C-20261123-000043",
        "name": "李娜",
        "email": OTHER_EMAIL,
        "phone": None,
        "language": "en",
        "tracking_url": "https://track.example.com/c/other",
        "team": "billing",
        "assignee": "agent-li",
    } | changes


async def _record(harness: Harness, data: EventData, topic: topics.Topic, subject: str) -> None:
    """The event's deliveries, and the facts the consumer records of it (the reference
    of a complaint.received, the team and assignee of a complaint.assigned)."""
    data = data.model_copy(update={"complaint_id": subject})
    envelope = envelope_of(record_of(data, topic, subject=subject))
    async with harness.database.unit_of_work() as uow:
        await service.record_deliveries(uow=uow, envelope=envelope, now=utcnow())
        if isinstance(data, ComplaintReceived):
            await teams.record_reference(
                uow=uow, complaint_id=subject, reference=data.reference, at=utcnow()
            )
        if isinstance(data, ComplaintAssigned):
            await teams.record_team(
                uow=uow, complaint_id=subject, team=data.team, assignee=data.assignee, at=utcnow()
            )


async def _two_complaints(harness: Harness) -> int:
    """Per complaint, the customer's acknowledgement and three staff notices (the agent's
    assignment, the lead's SLA warning and breach): eight deliveries, two complaints."""
    for subject in (COMPLAINT_ID, OTHER_ID):
        received = example_for(ComplaintReceived).model_copy(
            update={"reference": REFERENCES[subject]}
        )
        await _record(harness, received, topics.INTAKE, subject)
        await _record(harness, _assigned(), topics.ROUTING, subject)
        await _record(harness, example_for(SlaWarning), topics.SLA, subject)
        await _record(harness, example_for(SlaBreached), topics.SLA, subject)
    return len(await harness.rows())


def _by_complaint(rows: list[Delivery]) -> dict[str, set[str]]:
    statuses: dict[str, set[str]] = {}
    for row in rows:
        statuses.setdefault(row.complaint_id, set()).add(row.status)
    return statuses


def _customers(rows: list[Delivery]) -> dict[str, Delivery]:
    """Each complaint's one customer message (its acknowledgement)."""
    customers = {r.complaint_id: r for r in rows if r.recipient_role == "customer"}
    assert len(customers) == len({r.complaint_id for r in rows})
    return customers


def _staff_mails(harness: Harness, rows: list[Delivery]) -> dict[tuple[str, str], str]:
    """Each staff notice sent, by (complaint, template): to whom, with which reference in
    its subject (the SMTP envelope's recipient; the Message-ID names the delivery)."""
    by_id = {r.delivery_id: r for r in rows}
    mails: dict[tuple[str, str], str] = {}
    for message, [rcpt] in zip(harness.sink.messages, harness.sink.rcpts, strict=True):
        row = by_id[message["Message-ID"].strip("<>").removesuffix("@opencomplaints")]
        if row.recipient_role == "customer":
            continue
        [reference] = [r for r in REFERENCES.values() if r in message["Subject"]]
        mails[(row.complaint_id, row.template)] = f"{rcpt} {reference}"
    return mails


def _all_staff_told(complaint_ids: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """The agent of the assignment and the team's lead of the SLA warning and breach,
    each notice showing its own complaint's reference (from notify's facts)."""
    return {
        (cid, template): f"{to} {REFERENCES[cid]}"
        for cid in complaint_ids
        for template, to in (("assignment", AGENT), ("sla_warning", LEAD), ("sla_breach", LEAD))
    }


def _assert_contacts_not_stored(rows: list[Delivery]) -> None:
    for row in rows:
        stored = json.dumps(
            [row.recipient_masked, row.recipient_key, row.context, row.last_error],
            ensure_ascii=False,
        )
        for raw in (CUSTOMER_EMAIL, CUSTOMER_PHONE, OTHER_EMAIL, "李娜", "张伟"):
            assert raw not in stored, stored


async def test_one_request_fetches_the_contacts_of_the_whole_batch(harness: Harness) -> None:
    harness.services.others[OTHER_ID] = _other_contact()
    count = await _two_complaints(harness)
    assert count == 8
    assert await harness.loop().run_once() == count

    rows = await harness.rows()
    assert {row.status for row in rows} == {"sent"}
    # Was two GETs (the customer messages'; the staff notices ask intake nothing).
    assert harness.services.calls == [CONTACT_LOOKUP_PATH]
    [asked] = harness.services.looked_up
    assert sorted(asked) == sorted([COMPLAINT_ID, OTHER_ID])  # each complaint once
    customers = sorted(r[0] for r in harness.sink.rcpts if "corp.example" not in r[0])
    assert customers == sorted([CUSTOMER_EMAIL, OTHER_EMAIL])
    assert _staff_mails(harness, rows) == _all_staff_told((COMPLAINT_ID, OTHER_ID))
    acknowledged = {
        r.complaint_id: r.recipient_masked for r in rows if r.recipient_role == "customer"
    }
    assert acknowledged == {COMPLAINT_ID: "z***@example.com", OTHER_ID: "l***@example.com"}
    _assert_contacts_not_stored(rows)
    assert_no_raw_contacts(await harness.events())


async def test_an_older_intake_is_asked_one_delivery_at_a_time(harness: Harness) -> None:
    harness.services.batch = False  # it answers 404 to the batch lookup
    harness.services.others[OTHER_ID] = _other_contact()
    count = await _two_complaints(harness)
    assert await harness.loop().run_once() == count
    rows = await harness.rows()
    assert {row.status for row in rows} == {"sent"}
    calls = harness.services.calls
    assert calls[0] == CONTACT_LOOKUP_PATH
    # One lookup per customer message (one each), none for the six staff notices.
    assert sorted(calls[1:]) == sorted([SINGLE.format(COMPLAINT_ID), SINGLE.format(OTHER_ID)])
    assert _staff_mails(harness, rows) == _all_staff_told((COMPLAINT_ID, OTHER_ID))


async def test_an_off_contract_batch_answer_falls_back_to_single_lookups(
    harness: Harness,
) -> None:
    assert isinstance(harness.services, Intake)
    harness.services.garbled = True
    await _record(harness, example_for(ComplaintReceived), topics.INTAKE, COMPLAINT_ID)
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert row.status == "sent"
    assert harness.services.calls == [CONTACT_LOOKUP_PATH, SINGLE.format(COMPLAINT_ID)]


async def test_a_complaint_intake_does_not_know_skips_only_its_customer_message(
    harness: Harness,
) -> None:
    await _two_complaints(harness)  # intake knows COMPLAINT_ID only
    await harness.loop().run_once()
    rows = await harness.rows()
    other = _customers(rows).pop(OTHER_ID)
    assert (other.status, other.last_error) == (
        "skipped",
        "skipped: nothing to send to: intake answered 404",
    )
    # Everything else went out, the other complaint's staff notices included (notify's
    # own facts: intake's answer does not concern them).
    assert {r.status for r in rows if r is not other} == {"sent"}
    assert _staff_mails(harness, rows) == _all_staff_told((COMPLAINT_ID, OTHER_ID))
    assert harness.services.calls == [CONTACT_LOOKUP_PATH]  # no second look one by one


@pytest.mark.parametrize(
    ("down", "status", "error"),
    [
        (True, 200, "intake unreachable: ConnectError"),
        (False, 503, "intake answered 503"),
    ],
)
async def test_intake_down_makes_every_customer_message_of_the_batch_wait(
    harness: Harness, down: bool, status: int, error: str
) -> None:
    harness.services.others[OTHER_ID] = _other_contact()
    harness.services.down, harness.services.status = down, status
    await _two_complaints(harness)
    await harness.loop().run_once()
    rows = await harness.rows()
    # Waiting for intake: back to pending, neither failed nor counted against a window.
    waiting = {
        cid: (r.status, r.attempts, r.last_error, r.first_attempt_at)
        for cid, r in _customers(rows).items()
    }
    assert waiting == dict.fromkeys(
        (COMPLAINT_ID, OTHER_ID), ("pending", 1, f"waiting: {error}", None)
    )
    assert harness.services.calls == [CONTACT_LOOKUP_PATH]  # one request, not one per delivery
    # Only the staff notices went out: they do not need intake.
    assert {r.status for r in rows if r.recipient_role != "customer"} == {"sent"}
    assert _staff_mails(harness, rows) == _all_staff_told((COMPLAINT_ID, OTHER_ID))
    assert all("corp.example" in rcpt for [rcpt] in harness.sink.rcpts)
    # Their six notification.sent; nothing of the waiting ones (no failure to tell).
    assert [type(e.data) for _, e in await harness.events()] == [NotificationSent] * 6


async def test_an_off_contract_entry_fails_only_its_complaints_deliveries(
    harness: Harness,
) -> None:
    harness.services.others[OTHER_ID] = {"complaint_id": OTHER_ID, "email": OTHER_EMAIL}
    await _two_complaints(harness)
    await harness.loop().run_once()
    rows = await harness.rows()
    other = _customers(rows).pop(OTHER_ID)
    assert (other.status, other.last_error) == (
        "failed",
        "intake's contact answer has no reference",
    )
    assert other.attempts == 1  # final: retrying would not help
    assert {r.status for r in rows if r is not other} == {"sent"}
    assert _staff_mails(harness, rows) == _all_staff_told((COMPLAINT_ID, OTHER_ID))
    assert harness.services.calls == [CONTACT_LOOKUP_PATH]


async def test_a_duplicate_notice_gets_the_standing_complaint_in_the_same_request(
    harness: Harness,
) -> None:
    harness.services.others[OTHER_ID] = _other_contact()
    linked = example_for(ComplaintDuplicateLinked).model_copy(update={"duplicate_of": OTHER_ID})
    await _record(harness, linked, topics.ROUTING, COMPLAINT_ID)
    await harness.loop().run_once()
    [row] = await harness.rows()
    assert (row.template, row.status) == ("duplicate_notice", "sent")
    assert harness.services.calls == [CONTACT_LOOKUP_PATH]
    assert harness.services.looked_up == [[COMPLAINT_ID, OTHER_ID]]
    [message] = harness.sink.messages
    assert "C-20261123-000043" in message["Subject"]  # the standing complaint's reference


async def test_a_prefetch_that_breaks_leaves_each_delivery_to_its_own_lookup(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _record(harness, example_for(ComplaintReceived), topics.INTAKE, COMPLAINT_ID)
    loop = harness.loop()

    async def broken(rows: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(loop._preparer, "prefetch_contacts", broken)
    await loop.run_once()
    [row] = await harness.rows()
    assert row.status == "sent"
    assert harness.services.calls == [SINGLE.format(COMPLAINT_ID)]


@dataclass
class _Row:
    delivery_id: str
    complaint_id: str
    template: str = "agent_reply"
    recipient_role: str = "customer"
    context: dict[str, Any] | None = None
    recipient_user: str | None = None
    recipient_masked: str | None = None
    recipient_key: str | None = None
    language: str | None = None
    channel: str | None = None
    failed_channels: list[str] | None = None


async def test_a_large_batch_is_asked_a_hundred_complaints_at_a_time(
    identity: DevIdentity,
) -> None:
    services = FakeServices(identity)
    ids = [f"0196f7a2-0000-7000-8000-{n:012d}" for n in range(150)]
    services.others = {i: _other_contact(complaint_id=i) for i in ids[:149]}
    api = services.api()
    preparer = MessagePreparer(
        settings=NotifySettings(**services.notify_settings()),
        api=api,
        directory=DIRECTORY,
        renderer=Renderer(),
    )
    rows = [_Row(f"d-{n}", i, context={}) for n, i in enumerate(ids + ids)]  # two each
    # Staff notices of further complaints in the same batch: nothing to ask intake.
    staff = [
        _Row(f"s-{n}", f"0196f7a2-0000-7000-9000-{n:012d}", "assignment", "agent", {}, "agent-li")
        for n in range(30)
    ]
    try:
        contacts = await preparer.prefetch_contacts(rows + staff)
        assert sorted(len(asked) for asked in services.looked_up) == [50, 100]
        assert sorted(i for asked in services.looked_up for i in asked) == sorted(ids)
        assert len(contacts) == 150
        email = await preparer.prepare(row=rows[0], contacts=contacts)
        assert isinstance(email, OutgoingEmail)
        assert (email.to_address, rows[0].channel) == (OTHER_EMAIL, "email")
        with pytest.raises(NotFound, match="intake answered 404"):
            await preparer.prepare(row=rows[149], contacts=contacts)
        assert services.calls == [CONTACT_LOOKUP_PATH] * 2  # no single lookup
    finally:
        await api.aclose()
