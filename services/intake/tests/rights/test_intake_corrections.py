"""``PATCH /v1/complaints/{id}/contacts``, the right to rectification (§10): a merge patch
validated like the POST, re-encrypted with hashes and masks recomputed, the customer
reference kept, recorded with who (never the values), and what notify reads next."""

from __future__ import annotations

from typing import Any

from intake.db import COMPLAINTS, HistoryEntry
from intake.erasure.domain.anonymisation import erased_customer_ref
from sqlalchemy import select, update

from .conftest import Intake

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
