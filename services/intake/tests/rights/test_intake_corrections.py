"""``PATCH /v1/complaints/{id}/contacts``, the right to rectification (§10): a merge patch
validated like the POST, re-encrypted with hashes and masks recomputed, the customer
reference kept, recorded with who (never the values), and what notify reads next."""

from __future__ import annotations

from typing import Any

import pytest
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import ComplaintContactsCorrected, ComplaintReceived
from complaint_runtime.database import OutboxMessage, UnitOfWork
from intake.complaints.domain.secret_keys import Secrets
from intake.db import COMPLAINTS, HistoryEntry
from intake.erasure.domain.anonymisation import erased_customer_ref
from intake.rights import service
from intake.rights.domain.subjects import RightsCaller
from sqlalchemy import select, update

from .conftest import Intake, events

PROBLEMS = "https://docs.opencomplaints.org/problems"
COMPLAINT: dict[str, Any] = {
    "channel": "web",
    "customer": {"name": "Zhang Wei", "phone": "+8613812345678", "email": "zw@example.com"},
    "subject": "Refund missing",
    "description": "I returned the order a month ago.",
}


async def test_a_correction_is_what_the_next_notification_uses(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    before = await intake.complaint(complaint_id)

    answer = await intake.correct(
        complaint_id,
        {"phone": "+86 139 0000 1111", "email": None, "preferred_channel": "sms"},
        intake.admin,
    )

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["corrected"] == ["phone", "email", "preferred_channel"]
    assert (body["masked_phone"], body["masked_email"], body["has_name"]) == (
        "139****1111",
        None,
        True,
    )
    card = await intake.contact(complaint_id)  # notify's just-in-time lookup
    assert (card["name"], card["phone"], card["email"], card["preferred_channel"]) == (
        "Zhang Wei",
        "+86 139 0000 1111",
        None,
        "sms",
    )
    batch = await intake.client.post(  # the batch form notify's delivery loop uses
        "/internal/v1/contacts/lookup",
        json={"complaint_ids": [complaint_id]},
        headers=intake.service("notify"),
    )
    assert [(c["phone"], c["email"]) for c in batch.json()["contacts"]] == [
        ("+86 139 0000 1111", None)
    ]
    after = await intake.complaint(complaint_id)
    assert after.customer_ref == before.customer_ref  # other services' name for them stays
    assert after.phone_hash != before.phone_hash
    assert after.email_hash is None
    assert after.masked_phone == "139****1111"
    # An export by the new number finds the complaint, by the old one nothing.
    new = await intake.export({"phone": "13900001111"}, intake.admin)
    assert [c["id"] for c in new.json()["complaints"]] == [complaint_id]
    assert (await intake.export({"phone": "13812345678"}, intake.admin)).status_code == 404


async def test_a_correction_is_recorded_with_who_not_the_values(intake: Intake) -> None:
    accepted = await intake.post(COMPLAINT)
    complaint_id, token = accepted["id"], accepted["tracking_token"]
    answer = await intake.correct(complaint_id, {"name": "Zhang Wei-Ming"}, intake.key("web"))
    assert answer.status_code == 200, answer.text
    async with intake.database.sessions() as session:
        steps = list(
            await session.scalars(
                select(HistoryEntry).where(
                    HistoryEntry.complaint_id == complaint_id,
                    HistoryEntry.event_type == "intake.contacts_corrected",
                )
            )
        )
    assert [s.data for s in steps] == [{"fields": ["name"], "actor": "front-end:web"}]
    [entry] = await intake.audited("contacts.corrected")
    assert (entry["actor"], entry["object_id"], entry["after"]) == (
        "front-end:web",
        complaint_id,
        {"fields": ["name"]},
    )
    # The same values again change nothing and record nothing.
    again = await intake.correct(complaint_id, {"name": "Zhang Wei-Ming"}, intake.admin)
    assert again.json()["corrected"] == []
    # The customer's own view does not show the step.
    view = await intake.client.get(
        f"/v1/complaints/{complaint_id}", headers={"X-Tracking-Token": token}
    )
    assert view.status_code == 200, view.text
    assert "contacts_corrected" not in view.text


async def test_a_correction_is_validated_like_the_complaint(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    for body, pointer in (
        ({"phone": "call me maybe"}, "/phone"),
        ({"email": "not-an-address"}, "/email"),
        ({"name": "Zhang\r\nBcc: x@example.com"}, "/name"),
        ({"preferred_channel": "pigeon"}, "/preferred_channel"),
        ({"tier": "vip"}, "/tier"),
    ):
        answer = await intake.correct(complaint_id, body, intake.admin)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
        assert [e["pointer"] for e in answer.json()["errors"]] == [pointer], body
    empty = await intake.correct(complaint_id, {}, intake.admin)
    assert empty.status_code == 422
    assert empty.json()["type"] == f"{PROBLEMS}/nothing-to-correct"
    # No complaint left without a way to identify its customer (it has no CRM id).
    anonymous = await intake.correct(complaint_id, {"phone": None, "email": None}, intake.admin)
    assert anonymous.status_code == 422
    assert (await intake.contact(complaint_id))["phone"] == "+8613812345678"  # unchanged


async def test_only_an_admin_or_the_creating_front_end_corrects(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    body = {"email": "new@example.com"}
    other = await intake.correct(complaint_id, body, intake.key("app"))
    assert other.status_code == 404
    assert (await intake.correct(complaint_id, body, {})).status_code == 401
    assert (await intake.correct(complaint_id, body, intake.token("manager"))).status_code == 403
    elsewhere = intake.token("admin", audience="routing")  # an admin's token for routing
    assert (await intake.correct(complaint_id, body, elsewhere)).status_code == 401
    assert (await intake.correct(complaint_id, body, intake.key("web-plain"))).status_code == 200
    unknown = await intake.correct("0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40", body, intake.admin)
    assert unknown.status_code == 404


async def test_a_merge_patch_media_type_is_accepted(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    answer = await intake.client.patch(
        f"/v1/complaints/{complaint_id}/contacts",
        content=b'{"email": "new@example.com"}',
        headers=intake.admin | {"Content-Type": "application/merge-patch+json"},
    )
    assert answer.status_code == 200, answer.text
    assert (await intake.contact(complaint_id))["email"] == "new@example.com"


async def test_an_erased_complaint_is_not_given_contacts_again(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    async with intake.database.unit_of_work() as uow:
        await uow.session.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint_id)
            .values(customer_ref=erased_customer_ref(), phone_enc=None, email_enc=None)
        )
    answer = await intake.correct(complaint_id, {"phone": "13900001111"}, intake.admin)
    assert answer.status_code == 409
    assert answer.json()["type"] == f"{PROBLEMS}/complaint-anonymised"
    assert await _corrections(intake) == []


async def _corrections(intake: Intake) -> list[Envelope]:
    return [
        e for e in await events(intake.database) if isinstance(e.data, ComplaintContactsCorrected)
    ]


async def test_a_correction_is_announced_with_masked_contacts_only(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    before = await intake.complaint(complaint_id)
    answer = await intake.correct(
        complaint_id,
        {"phone": "+86 139 0000 1111", "email": None, "preferred_channel": "sms"},
        intake.admin,
    )
    assert answer.status_code == 200, answer.text

    [announced] = await _corrections(intake)
    assert (announced.subject, announced.source) == (complaint_id, "intake")
    assert isinstance(announced.data, ComplaintContactsCorrected)
    assert announced.data == ComplaintContactsCorrected(
        complaint_id=complaint_id,
        customer_ref=before.customer_ref,
        corrected=("phone", "email", "preferred_channel"),
        masked_phone="139****1111",
        masked_email=None,
        preferred_channel="sms",
        identity_keys=announced.data.identity_keys,  # their values: the next test
        corrected_at=announced.data.corrected_at,
        actor="admin:admin-7",
    )
    # The staff-only history step is the event's (its id), and still names no value.
    async with intake.database.sessions() as session:
        step = await session.scalar(
            select(HistoryEntry).where(HistoryEntry.event_type == "intake.contacts_corrected")
        )
        [record] = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id == announced.id)
        )
    assert step is not None
    assert step.event_id == announced.id
    # Neither the new nor the old raw contact, in any form, leaves intake.
    for raw in (b"13900001111", b"0000 1111", b"13812345678", b"zw@example.com", b"Zhang"):
        assert raw not in record.value
        assert raw not in repr(record.headers).encode()


async def _received_keys(intake: Intake, complaint_id: str) -> tuple[str, ...]:
    [received] = [
        e.data
        for e in await events(intake.database)
        if isinstance(e.data, ComplaintReceived) and e.data.complaint_id == complaint_id
    ]
    return received.customer.identity_keys


async def test_a_correction_announces_the_identity_keys_of_the_corrected_contacts(
    intake: Intake,
) -> None:
    """The keys are those ``complaint.received`` gives the corrected contacts (the customer
    id's in its front end's namespace, as filed): routing re-indexes the complaint by them."""
    filed = {**COMPLAINT, "customer": {**COMPLAINT["customer"], "customer_id": "CRM-7"}}
    complaint_id = (await intake.post(filed))["id"]
    old_keys = await _received_keys(intake, complaint_id)
    answer = await intake.correct(
        complaint_id, {"phone": "+86 139 0000 1111", "email": None}, intake.admin
    )
    assert answer.status_code == 200, answer.text
    # The same customer filing with the corrected contacts gets these keys.
    same = {"customer_id": "CRM-7", "name": "Zhang Wei", "phone": "13900001111"}
    new_id = (await intake.post({**COMPLAINT, "customer": same}))["id"]
    expected = await _received_keys(intake, new_id)

    [announced] = await _corrections(intake)
    assert isinstance(announced.data, ComplaintContactsCorrected)
    keys = announced.data.identity_keys
    assert keys == expected
    assert [k.split(":")[0] for k in keys] == ["id", "phone"]
    assert keys[0] == old_keys[0]  # the id is not corrected: its key stays
    assert set(keys).isdisjoint(old_keys[1:])  # the old phone's and e-mail's keys go
    async with intake.database.sessions() as session:
        [record] = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id == announced.id)
        )
    for raw in (b"13900001111", b"0000 1111", b"13812345678", b"zw@example.com", b"CRM-7"):
        assert raw not in record.value


async def test_a_correction_that_changes_nothing_or_fails_announces_nothing(
    intake: Intake,
) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    same = await intake.correct(complaint_id, {"email": "zw@example.com"}, intake.admin)
    assert same.json()["corrected"] == []
    refused = await intake.correct(complaint_id, {"phone": None, "email": None}, intake.admin)
    assert refused.status_code == 422
    assert await _corrections(intake) == []


async def test_the_event_commits_with_the_correction_or_not_at_all(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]

    def failing_audit(self: UnitOfWork, **_: Any) -> None:
        raise RuntimeError("the audit chain is unavailable")

    # The event is staged before the audit entry: a failure after it rolls it back too.
    monkeypatch.setattr(UnitOfWork, "audit", failing_audit)
    with pytest.raises(RuntimeError):
        await service.correct_contacts(
            database=intake.database,
            secrets_=Secrets.from_settings(
                contact_encryption_key=intake.settings.contact_encryption_key,
                customer_ref_key=intake.settings.customer_ref_key,
            ),
            caller=RightsCaller.admin("ops"),
            complaint_id=complaint_id,
            patch={"phone": "13900001111"},
        )
    assert await _corrections(intake) == []
    assert (await intake.complaint(complaint_id)).masked_phone == "138****5678"


async def test_an_administrator_named_by_an_address_is_masked_in_the_event(
    intake: Intake,
) -> None:
    complaint_id = (await intake.post(COMPLAINT))["id"]
    await service.correct_contacts(
        database=intake.database,
        secrets_=Secrets.from_settings(
            contact_encryption_key=intake.settings.contact_encryption_key,
            customer_ref_key=intake.settings.customer_ref_key,
        ),
        caller=RightsCaller.admin("li.na@example.com"),  # the identity provider's subject
        complaint_id=complaint_id,
        patch={"preferred_channel": "email"},
    )
    [announced] = await _corrections(intake)
    assert announced.data.actor == "admin:l***@example.com"  # type: ignore[attr-defined]
    [entry] = await intake.audited("contacts.corrected")
    assert entry["actor"] == "admin:li.na@example.com"  # the audit chain knows who
