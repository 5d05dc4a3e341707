"""``POST /v1/exports``, the right of access (§10): exactly the customer's data, decrypted,
with the timeline the customer sees, nothing internal and nobody else's; who may ask; the
file download; the pages."""

from __future__ import annotations

import json
from typing import Any

from complaint_contracts.events import ComplaintAgentReplied, ComplaintEscalated
from intake.complaints.domain.customers import keyed_hash
from intake.complaints.domain.secret_keys import Secrets
from intake.rights import service
from intake.rights.domain.subjects import RightsCaller, SubjectQuery, subject_query

from .conftest import REF_KEY, Intake

PROBLEMS = "https://docs.opencomplaints.org/problems"
ZHANG = {
    "customer_id": "CRM-7",
    "name": "Zhang Wei",
    "phone": "+8613812345678",
    "email": "zhang.wei@example.com",
}
FIRST: dict[str, Any] = {
    "channel": "web",
    "customer": ZHANG,
    "subject": "Refund missing",
    "description": "I returned the order a month ago.",
    "order_ref": "ORD-1",
    "attachments": [
        {"url": "https://files.example.com/r.jpg", "media_type": "image/jpeg", "size": 12}
    ],
    "metadata": {"campaign": "double-11"},
}
# The same customer by phone and e-mail, written differently, without the CRM id.
SECOND: dict[str, Any] = FIRST | {
    "channel": "app",
    "customer": {"phone": "138 1234 5678", "email": "Zhang.Wei@Example.com"},
    "subject": "Second parcel late",
}
# Another customer whose contacts are one character off, at another front end with the same
# CRM id (another CRM: another person).
LOOKALIKE: dict[str, Any] = FIRST | {
    "customer": {
        "customer_id": "CRM-7",
        "name": "Zhang Wen",
        "phone": "+8613812345679",
        "email": "zhang.wei@example.co",
    },
    "subject": "Someone else's complaint",
}


async def _three(intake: Intake) -> tuple[str, str, str]:
    first = (await intake.post(FIRST))["id"]
    second = (await intake.post(SECOND))["id"]
    other = (await intake.post(LOOKALIKE, key="app"))["id"]
    return first, second, other


async def test_an_export_holds_exactly_the_customers_data(intake: Intake) -> None:
    first, second, other = await _three(intake)
    message = await intake.client.post(
        f"/v1/complaints/{first}/messages",
        json={"text": "Any news? Call me on 13812345678."},
        headers=intake.key("web"),
    )
    assert message.status_code == 201, message.text
    await intake.feed(
        ComplaintAgentReplied(
            complaint_id=first,
            actor="agent-0042",
            in_reply_to=message.json()["message_id"],
            channel="web",
            replied_at=message.json()["received_at"],
            message="The refund was sent again.",
            agent_name="Li Na",
        ),
        source="routing",
    )
    await intake.feed(
        ComplaintEscalated(
            complaint_id=first,
            level=1,
            previous_level=0,
            trigger="first_response_breach",
            reason="first response clock breached",
            clock_id="first_response",
            metric="first_response",
            actor="sla-watch",
        ),
        source="sla-watch",
    )

    answer = await intake.export({"phone": "+86 138-1234-5678"}, intake.admin)

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert [c["id"] for c in body["complaints"]] == [first, second]
    assert body["next_after"] is None
    exported = body["complaints"][0]
    assert exported["customer"] == {
        "external_ref": "CRM-7",
        "name": "Zhang Wei",
        "phone": "+8613812345678",
        "email": "zhang.wei@example.com",
        "preferred_channel": None,
        "language": "zh-CN",
        "tier": "standard",
        "timezone": None,
    }
    assert (exported["subject"], exported["description"], exported["order_ref"]) == (
        "Refund missing",
        "I returned the order a month ago.",
        "ORD-1",
    )
    assert exported["attachments"] == FIRST["attachments"]
    assert exported["metadata"] == {"campaign": "double-11"}
    assert [m["text"] for m in exported["messages"]] == ["Any news? Call me on 13812345678."]
    steps = [(s["type"].rsplit(".", 2)[-2], s["data"]) for s in exported["timeline"]]
    assert (
        "agent_replied",
        {"message": "The refund was sent again.", "agent_name": "Li Na"},
    ) in steps
    assert "escalated" not in [name for name, _ in steps]  # staff-only
    assert body["complaints"][1]["customer"]["phone"] == "138 1234 5678"  # as given

    # Nothing internal, nobody else's.
    text = answer.text
    row = await intake.complaint(first)
    for internal in (row.customer_ref, row.phone_hash, row.email_hash, row.tracking_token_hash):
        assert internal is not None
        assert internal not in text
    assert not _keys(body) & {"customer_ref", "phone_hash", "email_hash", "tracking_token"}
    assert other not in text
    # The disclosure is audited: who, which complaints, how the customer was named.
    [entry] = await intake.audited("customer.exported")
    assert (entry["actor"], entry["object_id"]) == ("admin:admin-7", body["export_id"])
    assert entry["after"] == {"named_by": "phone", "front_end": None, "complaints": [first, second]}
    assert "138" not in json.dumps(entry)
    assert "Zhang Wen" not in text
    assert "agent-0042" not in text  # the staff's user id


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


async def test_the_customer_is_found_by_email_and_by_external_id_within_its_front_end(
    intake: Intake,
) -> None:
    first, second, other = await _three(intake)

    by_email = await intake.export({"email": "ZHANG.WEI@example.com"}, intake.admin)
    assert [c["id"] for c in by_email.json()["complaints"]] == [first, second]
    web = await intake.export({"external_ref": "CRM-7", "front_end": "web"}, intake.admin)
    assert [c["id"] for c in web.json()["complaints"]] == [first]
    app = await intake.export({"external_ref": "CRM-7", "front_end": "app"}, intake.admin)
    assert [c["id"] for c in app.json()["complaints"]] == [other]
    # A key exports its own front end's customers: the web shop's CRM-7 is not the app's.
    own = await intake.export({"external_ref": "CRM-7"}, intake.key("web"))
    assert [c["id"] for c in own.json()["complaints"]] == [first]
    by_phone = await intake.export({"phone": "13812345678"}, intake.key("web"))
    assert [c["id"] for c in by_phone.json()["complaints"]] == [first, second]


async def test_a_key_without_the_export_scope_is_forbidden(intake: Intake) -> None:
    await _three(intake)
    answer = await intake.export({"phone": "13812345678"}, intake.key("web-plain"))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"{PROBLEMS}/scope-missing"


async def test_another_front_ends_customer_is_not_found(intake: Intake) -> None:
    await intake.post(FIRST)  # the web shop's customer only
    answer = await intake.export({"phone": "13812345678"}, intake.key("app"))
    assert answer.status_code == 404
    assert answer.json()["type"] == f"{PROBLEMS}/customer-not-found"
    # ... the same answer as a customer nobody knows.
    unknown = await intake.export({"phone": "13900000000"}, intake.admin)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == answer.json()["detail"]
    naming = await intake.export({"phone": "13812345678", "front_end": "web"}, intake.key("app"))
    assert naming.status_code == 403
    assert naming.json()["type"] == f"{PROBLEMS}/other-front-end"


async def test_who_may_export(intake: Intake) -> None:
    await intake.post(FIRST)
    body = {"phone": "13812345678"}
    nobody = await intake.export(body, {})
    assert nobody.status_code == 401
    assert "ApiKey" in nobody.headers["www-authenticate"]
    agent = await intake.export(body, intake.token("agent", "lead", "manager"))
    assert agent.status_code == 403
    assert (await intake.export(body, intake.admin)).status_code == 200


async def test_the_request_names_the_customer_exactly_once(intake: Intake) -> None:
    for body in (
        {},
        {"phone": "13812345678", "email": "zhang.wei@example.com"},
        {"phone": "not a number"},
        {"email": "nobody"},
        {"phone": "13812345678", "extra": 1},
    ):
        answer = await intake.export(body, intake.admin)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
    no_front_end = await intake.export({"external_ref": "CRM-7"}, intake.admin)
    assert no_front_end.status_code == 422
    assert [e["field"] for e in no_front_end.json()["errors"]] == ["front_end"]


async def test_an_export_downloads_as_a_file(intake: Intake) -> None:
    first = (await intake.post(FIRST))["id"]
    answer = await intake.export({"email": "zhang.wei@example.com"}, intake.admin, download="true")
    assert answer.status_code == 200
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="customer-data-')
    assert disposition.endswith('.json"')
    assert json.loads(answer.content)["complaints"][0]["id"] == first


async def test_a_long_history_is_exported_page_by_page(intake: Intake) -> None:
    ids = [(await intake.post(FIRST))["id"] for _ in range(5)]
    query = subject_query(
        REF_KEY.encode(),
        RightsCaller.admin("ops"),
        external_ref=None,
        phone=None,
        email="zhang.wei@example.com",
        front_end=None,
        scope="export",
    )
    assert query == SubjectQuery(
        "email", keyed_hash(REF_KEY.encode(), "email", "zhang.wei@example.com"), None
    )
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = await service.export_customer_data(
            database=intake.database,
            secrets_=_secrets(intake),
            query=query,
            after=after,
            actor="admin:ops",
            page_size=2,
        )
        seen += [c.id for c in page.complaints]
        after = page.next_after
        if after is None:
            break
    assert seen == ids
    # Through the API: the page's next_after asks for the rest.
    answer = await intake.export({"email": "zhang.wei@example.com", "after": ids[2]}, intake.admin)
    assert [c["id"] for c in answer.json()["complaints"]] == ids[3:]


def _secrets(intake: Intake) -> Secrets:
    return Secrets.from_settings(
        contact_encryption_key=intake.settings.contact_encryption_key,
        customer_ref_key=intake.settings.customer_ref_key,
    )
