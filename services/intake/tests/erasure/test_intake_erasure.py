"""A customer's erasure (section 10) through intake's API in-process: every complaint of the
customer anonymised in ONE transaction (no raw or masked contact, no free text left in any
column of any intake table, the tracking link dead), ``complaint.erasure_requested`` in the
outbox per complaint, the KPIs' facts kept; the four services' confirmations complete it,
duplicates change nothing; a second request while pending answers the pending erasure."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.events import (
    CaseErasureCompleted,
    ComplaintAgentReplied,
    ComplaintTriaged,
    ErasureRequested,
    FeedbackErasureCompleted,
    NotificationErasureCompleted,
    SlaErasureCompleted,
)
from complaint_contracts.events.routing import FiredRule
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from intake.complaints.db import IdempotencyRecord
from intake.erasure.domain.anonymisation import is_erased
from intake.recovery.db import TrackingCode
from sqlalchemy import text

from .conftest import FORBIDDEN, OTHER_CUSTOMER, Intake, complaint_body

CONFIRMATIONS: tuple[tuple[type[EventData], str], ...] = (
    (CaseErasureCompleted, "routing"),
    (SlaErasureCompleted, "sla-watch"),
    (FeedbackErasureCompleted, "feedback"),
    (NotificationErasureCompleted, "notify"),
)


async def _customer_with_history(intake: Intake) -> list[dict[str, Any]]:
    """Two complaints of the customer (web front end), with a message, staff's reply and
    triage in their history, a lost-link code and a kept answer of the customer's page."""
    first = await intake.post(complaint_body())
    second = await intake.post(complaint_body(channel="app"))
    answer = await intake.client.post(
        f"/v1/complaints/{first['id']}/messages",
        json={"text": "My third message about the parcel, Zhang Weiqiang 13908715523."},
        headers={"X-Tracking-Token": first["tracking_token"]},
    )
    assert answer.status_code == 201, answer.text
    await intake.feed(
        ComplaintTriaged(
            complaint_id=first["id"],
            category="delivery_logistics",
            subcategory="damaged",
            confidence=0.9,
            priority="P2",
            emotion="yellow",
            rules_fired=(
                FiredRule(rule="category.logistics", detail="matched 'crushed in transit'"),
            ),
            repeat_count=0,
        ),
        source="routing",
    )
    await intake.feed(
        ComplaintAgentReplied(
            complaint_id=first["id"],
            actor="agent-0042",
            replied_at=datetime.now(UTC),
            message="Dear Zhang Weiqiang, the refund of RF-447190 is on its way.",
            agent_name="Li Na",
        ),
        source="routing",
    )
    secrets_ = MultiFernet([Fernet(intake.settings.contact_encryption_key.encode())])
    async with intake.database.unit_of_work() as uow:
        uow.session.add(
            TrackingCode(
                request_id="0195f9a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
                flow_hash="f" * 64,
                complaint_id=first["id"],
                code_hash="c" * 64,
                code_enc=secrets_.encrypt(b"483920"),
                created_at=datetime.now(UTC),
                expires_at=datetime.now(UTC),
                attempts=0,
            )
        )
        sealed = secrets_.encrypt(json.dumps({"tracking_token": first["tracking_token"]}).encode())
        uow.session.add(
            IdempotencyRecord(
                api_key_id=0,
                key=f"page:message:{first['id']}:abc",
                request_hash="h",
                status_code=201,
                response={"sealed": sealed.decode()},
            )
        )
    return [first, second]


def _scan(path: str, fernet: MultiFernet, forbidden: tuple[str, ...]) -> list[str]:
    """Every value of every column of every table (decrypting what decrypts) that holds one
    of ``forbidden``: ``table.column = value``."""
    found = []
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    text = _readable(value, fernet)
                    found += [
                        f"{table}.{column} = {text[:80]!r}"
                        for needle in forbidden
                        if needle.lower() in text.lower()
                    ]
    return found


def _readable(value: Any, fernet: MultiFernet) -> str:
    if isinstance(value, bytes):
        try:
            return fernet.decrypt(value).decode()
        except InvalidToken:
            return value.decode(errors="replace")
    text = str(value)
    if '"sealed"' in text:  # a kept answer: {"sealed": token}
        try:
            return fernet.decrypt(json.loads(text)["sealed"].encode()).decode()
        except (InvalidToken, KeyError, ValueError):
            return text
    return text


async def test_an_admin_erases_a_customer_everywhere_in_intake(intake: Intake) -> None:
    complaints = await _customer_with_history(intake)
    other = await intake.post(OTHER_CUSTOMER)
    before = {c["id"]: (await intake.complaint(c["id"])).customer_ref for c in complaints}
    hashes = [(await intake.complaint(c["id"])).phone_hash for c in complaints]
    await intake.relay()  # the events so far were published: only erasure's remain

    answer = await intake.erase({"phone": "+86 139 0871 5523"}, intake.admin)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert answer.headers["Location"] == f"/v1/erasures/{body['erasure_id']}"
    assert (body["status"], body["complaints"], body["held"], body["created"]) == (
        "pending",
        2,
        0,
        True,
    )
    fernet = MultiFernet([Fernet(intake.settings.contact_encryption_key.encode())])
    path = intake.settings.database_url.removeprefix("sqlite+aiosqlite:///")
    tokens = tuple(c["tracking_token"] for c in complaints)
    leftovers = _scan(path, fernet, FORBIDDEN + tokens + tuple(h for h in hashes if h))
    assert leftovers == []
    # The customer reference goes too, except in the erasure events still in the outbox:
    # the other services find the customer's data by it.
    refs = tuple(set(before.values()))  # one customer: one reference
    in_outbox = [f for f in _scan(path, fernet, refs) if f.startswith("outbox_messages.")]
    assert len(in_outbox) == 2
    assert len(_scan(path, fernet, refs)) == 2

    events = await intake.events()
    assert [e.type for e in events] == [ErasureRequested.ce_type()] * 2
    for envelope in events:
        data = envelope.data
        assert isinstance(data, ErasureRequested)
        assert envelope.subject == data.complaint_id
        assert (data.erasure_id, data.reason, data.actor) == (
            body["erasure_id"],
            "customer_request",
            "admin-7",
        )
        assert data.customer_ref == before[data.complaint_id]

    first = await intake.complaint(complaints[0]["id"])
    assert is_erased(first.customer_ref)
    assert (first.category, first.priority, first.status, first.channel) == (
        "delivery_logistics",
        "P2",
        "triaged",
        "web",
    )
    # The tracking link opens nothing any more; the other customer is untouched.
    view = await intake.client.get(
        f"/v1/complaints/{first.id}", headers={"X-Tracking-Token": complaints[0]["tracking_token"]}
    )
    assert view.status_code == 404
    untouched = await intake.complaint(other["id"])
    assert (untouched.subject, untouched.customer_id) == ("Late delivery", "CRM-1")


async def test_the_four_confirmations_complete_it_and_duplicates_change_nothing(
    intake: Intake,
) -> None:
    complaints = await _customer_with_history(intake)
    body = (await intake.erase({"email": "zhang.weiqiang@example.COM"}, intake.admin)).json()
    erasure_id = body["erasure_id"]

    for complaint in complaints:
        for model, source in CONFIRMATIONS[:3]:
            await intake.feed(_confirmation(model, complaint["id"], erasure_id), source=source)
    status = (await intake.status(erasure_id, intake.admin)).json()
    assert status["status"] == "pending"
    assert [item["awaiting"] for item in status["items"]] == [["notify"], ["notify"]]

    for _ in range(2):  # the second round: a redelivery of every confirmation
        for complaint in complaints:
            for model, source in CONFIRMATIONS:
                await intake.feed(_confirmation(model, complaint["id"], erasure_id), source=source)
        status = (await intake.status(erasure_id, intake.admin)).json()
        assert status["status"] == "completed"
        assert status["completed_at"] is not None
        assert status["complaints"] == 2
        assert status["held_complaints"] == []
        for item in status["items"]:
            assert sorted(item["confirmations"]) == ["feedback", "notify", "routing", "sla-watch"]
            assert item["awaiting"] == []
            assert item["erased_at"] is not None


async def test_a_confirmation_of_an_unknown_erasure_or_complaint_is_ignored(
    intake: Intake,
) -> None:
    [complaint, _] = await _customer_with_history(intake)
    other = await intake.post(OTHER_CUSTOMER)
    erasure_id = (await intake.erase({"phone": "13908715523"}, intake.admin)).json()["erasure_id"]
    await intake.feed(
        _confirmation(CaseErasureCompleted, complaint["id"], "era-unknown"), source="routing"
    )
    await intake.feed(
        _confirmation(CaseErasureCompleted, other["id"], erasure_id), source="routing"
    )
    status = (await intake.status(erasure_id, intake.admin)).json()
    assert all(item["confirmations"] == {} for item in status["items"])


async def test_a_second_request_while_pending_answers_the_pending_erasure(intake: Intake) -> None:
    [first, _] = await _customer_with_history(intake)
    one = (await intake.erase({"phone": "13908715523"}, intake.admin)).json()
    later = await intake.post(complaint_body())  # the customer wrote again meanwhile

    again = await intake.erase({"phone": "0086 139 0871 5523"}, intake.admin)

    assert again.status_code == 202
    body = again.json()
    assert (body["erasure_id"], body["created"], body["complaints"]) == (
        one["erasure_id"],
        False,
        3,
    )
    assert is_erased((await intake.complaint(later["id"])).customer_ref)
    assert len([e for e in await intake.events() if e.type == ErasureRequested.ce_type()]) == 3
    assert first["id"] in {
        i["complaint_id"]
        for i in (await intake.status(one["erasure_id"], intake.admin)).json()["items"]
    }


async def test_an_event_arriving_after_the_erasure_is_kept_without_its_text(intake: Intake) -> None:
    [first, _] = await _customer_with_history(intake)
    await intake.erase({"phone": "13908715523"}, intake.admin)
    await intake.feed(
        ComplaintAgentReplied(
            complaint_id=first["id"],
            actor="agent-0042",
            replied_at=datetime.now(UTC),
            message="Late reply: refund of RF-447190 is on its way, Zhang Weiqiang.",
            agent_name="Li Na",
        ),
        source="routing",
    )
    fernet = MultiFernet([Fernet(intake.settings.contact_encryption_key.encode())])
    path = intake.settings.database_url.removeprefix("sqlite+aiosqlite:///")
    await intake.relay()
    assert _scan(path, fernet, FORBIDDEN) == []


async def test_an_unknown_customer_is_a_completed_erasure_of_nothing(intake: Intake) -> None:
    answer = await intake.erase({"email": "nobody@example.org"}, intake.admin)
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["complaints"]) == ("completed", 0)
    assert await intake.events() == []


def _confirmation(model: type[EventData], complaint_id: str, erasure_id: str) -> EventData:
    return model(  # type: ignore[call-arg]
        complaint_id=complaint_id,
        erasure_id=erasure_id,
        erased_at=datetime.now(UTC),
        actor="routing",
    )


async def test_an_erased_complaint_takes_no_message_nor_withdrawal_reason(
    intake: Intake,
) -> None:
    """A front end's key may still reach an erased complaint, but nothing of the customer
    comes back into it: a message or a withdrawal with its reason is a 409."""
    posted = await intake.post(complaint_body())
    answer = await intake.erase({"phone": "+86 139 0871 5523"}, intake.admin)
    assert answer.status_code == 202, answer.text
    headers = {"X-API-Key": intake.web_key}
    path = f"/v1/complaints/{posted['id']}"
    message = await intake.client.post(
        f"{path}/messages", json={"text": "My new address is 5 Elm Road"}, headers=headers
    )
    withdrawal = await intake.client.post(
        f"{path}/withdraw", json={"reason": "Solved by Elm Road office"}, headers=headers
    )
    for refused in (message, withdrawal):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/complaint-anonymised")
    async with intake.database.sessions() as session:
        stored = (await session.execute(text("SELECT count(*) FROM customer_messages"))).scalar()
    assert stored == 0
