"""GET /v1/cases/{id}: the whole case file (texts, customer, conversation, duplicates, the
customer's earlier complaints, history), who sees it (a 404 like an unknown case
otherwise), and what an erasure leaves of it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from complaint_contracts.events import CustomerMessageReceived, ErasureRequested
from complaint_runtime.database import Database
from routing.casefile.db import CaseFile, CaseFileRepository, CaseMessage
from sqlalchemy import delete, func, select

from .conftest import (
    ADMIN,
    BILLING_LEAD,
    LEAK,
    LI,
    MANAGER,
    NOW,
    QUALITY_LEAD,
    SERVICE,
    WANG,
    Receive,
    attachment,
    auth,
)

PHONE = "138****5678"
CUSTOMER = {
    "customer_ref": "cr_file_customer",
    "external_ref": "web-user-42",
    "masked_phone": "138****5678",
    "masked_email": "z***@example.com",
    "tier": "gold",
    "language": "en",
    "preferred_channel": "sms",
}


def message(cid: str, text: str, *, message_id: str = "msg-1") -> CustomerMessageReceived:
    return CustomerMessageReceived(
        complaint_id=cid,
        message_id=message_id,
        channel="app",
        customer_ref="cr_file_customer",
        text=text,
        attachments=(attachment("https://files.example.com/bank-slip.png"),),
        received_at=NOW - timedelta(minutes=30),
    )


async def _full_case(client: httpx.AsyncClient, receive: Receive, feed: Any) -> str:
    """A case with every text: received, a customer message, a first response, a reply and
    a question to the customer."""
    related = str(uuid.uuid4())
    cid = await receive(
        customer=CUSTOMER,
        received_at=NOW - timedelta(hours=1),
        order_ref="ORD-7781",
        occurred_at=NOW - timedelta(days=2),
        attachments=(attachment(),),
        metadata={"store": "Shanghai Xuhui", "device": "iPhone"},
        related_complaint_id=related,
    )
    await feed(message(cid, f"Still nothing on my card, {PHONE} is my number"))
    base = f"/v1/cases/{cid}"
    first = await client.post(
        f"{base}/first-response",
        json={"message": "We are on it; call 13812345678 if urgent", "channel": "sms"},
        headers=LI,
    )
    assert first.status_code == 200, first.text
    reply = await client.post(
        f"{base}/replies",
        json={"message": "The refund was re-sent", "in_reply_to": "msg-1", "channel": "app"},
        headers=LI,
    )
    assert reply.status_code == 200, reply.text
    question = await client.post(
        f"{base}/awaiting-customer", json={"reason": "Please send the bank receipt"}, headers=LI
    )
    assert question.status_code == 200, question.text
    return cid


async def test_the_case_file_after_triage_messages_and_answers(
    client: httpx.AsyncClient, receive: Receive, feed: Any
) -> None:
    cid = await _full_case(client, receive, feed)
    response = await client.get(f"/v1/cases/{cid}", headers=LI)
    assert response.status_code == 200, response.text
    body = response.json()

    # Every field of the command answer is still there.
    assert (body["complaint_id"], body["reference"], body["status"]) == (
        cid,
        "C-20261201-000001",
        "awaiting_customer",
    )
    assert (body["category"], body["priority"], body["team"], body["assignee"]) == (
        "billing_refund",
        "P2",  # gold tier: one level up
        "billing",
        "agent-li",
    )
    assert body["owner"] == "agent-li"
    assert body["escalation_level"] == 0
    assert body["rules_fired"]
    assert body["emotion"] in {"blue", "yellow", "red"}
    # The customer as the event showed them: masked contacts only.
    assert body["channel"] == "web"
    assert body["customer"] == CUSTOMER
    assert (body["subject"], body["order_ref"]) == ("退款迟迟未到账", "ORD-7781")
    assert body["description"].startswith("我10月28日申请的退款")
    assert body["occurred_at"] is not None
    assert body["attachments"] == [
        {"url": "https://files.example.com/receipt.jpg", "media_type": "image/jpeg", "size": 2048}
    ]
    assert body["metadata"] == {"store": "Shanghai Xuhui", "device": "iPhone"}
    assert body["related_complaint_id"] is not None
    assert body["texts_erased_at"] is None
    # The conversation, oldest first, staff texts masked.
    conversation = [(m["kind"], m["author"], m["channel"], m["text"]) for m in body["conversation"]]
    assert conversation == [
        ("customer_message", "customer", "app", f"Still nothing on my card, {PHONE} is my number"),
        ("first_response", "agent-li", "sms", "We are on it; call 138****5678 if urgent"),
        ("reply", "agent-li", "app", "The refund was re-sent"),
        ("question", "agent-li", None, "Please send the bank receipt"),
    ]
    assert body["conversation"][0]["message_id"] == "msg-1"
    assert body["conversation"][0]["attachments"][0]["url"].endswith("bank-slip.png")
    assert body["conversation"][2]["in_reply_to"] == "msg-1"
    # The timeline with its actors, and the latest activity.
    assert [(a["actor"], a["action"]) for a in body["actions"]] == [
        ("intake", "received"),
        ("routing", "triaged"),
        ("routing", "assigned"),
        ("customer", "customer_message_received"),
        ("agent-li", "first_response_sent"),
        ("agent-li", "agent_replied"),
        ("agent-li", "awaiting_customer"),
    ]
    assert body["last_activity_at"] == body["actions"][-1]["at"]
    assert body["sla"] == {
        "state": None,
        "due_at": None,
        "time_left_s": None,
        "at_risk": False,
        "breached": False,
        "clocks": [],
    }
    assert body["duplicates"] == {"duplicate_of": None, "copies": [], "repeat_count": 0}
    assert body["earlier_complaints"] == []
    assert (body["solution_summary"], body["resolved_at"]) == (None, None)


async def test_a_customer_message_is_kept_once(
    database: Database, client: httpx.AsyncClient, receive: Receive, feed: Any
) -> None:
    cid = await receive()
    await feed(message(cid, "first copy"))
    await feed(message(cid, "first copy"))  # the same message under another event id
    async with database.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(CaseMessage).where(CaseMessage.complaint_id == cid)
        )
    assert count == 1


async def test_a_case_stored_before_case_files_shows_its_texts_as_absent(
    database: Database, client: httpx.AsyncClient, receive: Receive
) -> None:
    cid = await receive()
    async with database.unit_of_work() as uow:
        await uow.session.execute(delete(CaseFile).where(CaseFile.complaint_id == cid))
    body = (await client.get(f"/v1/cases/{cid}", headers=MANAGER)).json()
    assert (body["subject"], body["description"], body["order_ref"]) == (None, None, None)
    assert (body["attachments"], body["metadata"], body["conversation"]) == ([], {}, [])
    assert body["customer"]["external_ref"] is None
    assert body["customer"]["customer_ref"].startswith("cr_")


async def test_duplicates_and_the_customers_earlier_complaints(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    customer = {"customer_ref": "cr_repeat_customer"}
    first = await receive(customer=customer, received_at=NOW - timedelta(days=10))
    copy = await receive(customer=customer, received_at=NOW - timedelta(days=10, hours=-1))
    other = await receive(customer=customer, subject=LEAK[0], description=LEAK[1])
    stranger = await receive()

    original = (await client.get(f"/v1/cases/{first}", headers=MANAGER)).json()
    assert [c["complaint_id"] for c in original["duplicates"]["copies"]] == [copy]
    assert original["duplicates"]["copies"][0]["reference"] == "C-20261201-000002"
    assert original["earlier_complaints"] == []

    duplicate = (await client.get(f"/v1/cases/{copy}", headers=MANAGER)).json()
    assert duplicate["duplicates"]["duplicate_of"]["complaint_id"] == first
    assert duplicate["duplicates"]["duplicate_of"]["reference"] == "C-20261201-000001"
    assert duplicate["status"] == "received"

    latest = (await client.get(f"/v1/cases/{other}", headers=MANAGER)).json()
    assert [(c["complaint_id"], c["reference"]) for c in latest["earlier_complaints"]] == [
        (copy, "C-20261201-000002"),
        (first, "C-20261201-000001"),
    ]
    assert {c["category"] for c in latest["earlier_complaints"]} == {"billing_refund"}
    assert latest["earlier_complaints"][1]["status"] == "assigned"
    assert (await client.get(f"/v1/cases/{stranger}", headers=MANAGER)).json()[
        "earlier_complaints"
    ] == []


async def test_who_sees_which_case_file(client: httpx.AsyncClient, receive: Receive) -> None:
    billing = await receive()  # billing team, assigned to agent-li
    quality = await receive(subject=LEAK[0], description=LEAK[1])  # quality, agent-wang

    async def status(cid: str, headers: dict[str, str]) -> int:
        return (await client.get(f"/v1/cases/{cid}", headers=headers)).status_code

    # An agent: their team's cases and their own; a lead: their team's; the rest: all.
    assert [await status(billing, h) for h in (LI, BILLING_LEAD, MANAGER, ADMIN, SERVICE)] == [
        200
    ] * 5
    assert await status(billing, auth("agent-zhou", "agent", team="billing")) == 200
    assert [await status(billing, h) for h in (WANG, QUALITY_LEAD)] == [404, 404]
    assert [await status(quality, h) for h in (WANG, QUALITY_LEAD, MANAGER)] == [200] * 3
    assert [await status(quality, h) for h in (LI, BILLING_LEAD)] == [404, 404]
    assert await status(billing, auth("agent-li", "agent")) == 200  # own case, no team claim
    assert await status(billing, auth("lead-x", "lead")) == 404  # a lead without a team

    # agent-wang signed in for the billing team: billing's cases and their own.
    wang_in_billing = auth("agent-wang", "agent", team="billing")
    assert [await status(cid, wang_in_billing) for cid in (billing, quality)] == [200, 200]


async def test_an_invisible_case_is_the_same_404_as_an_unknown_one(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    cid = await receive()
    hidden = await client.get(f"/v1/cases/{cid}", headers=WANG)
    unknown = await client.get(f"/v1/cases/{uuid.uuid4()}", headers=WANG)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    strip = ("instance",)
    assert {k: v for k, v in hidden.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    assert hidden.json()["title"] == "Case not found"


async def test_an_erasure_blanks_texts_messages_and_search_terms(
    database: Database, client: httpx.AsyncClient, receive: Receive, feed: Any
) -> None:
    cid = await _full_case(client, receive, feed)
    await feed(
        ErasureRequested(
            complaint_id=cid,
            erasure_id="era-1",
            customer_ref="cr_file_customer",
            reason="customer_request",
            requested_at=NOW,
            actor="intake",
        )
    )
    body = (await client.get(f"/v1/cases/{cid}", headers=LI)).json()
    assert body["texts_erased_at"] is not None
    assert (body["subject"], body["description"], body["order_ref"]) == (None, None, None)
    assert body["customer"]["external_ref"] is None
    assert body["customer"]["masked_phone"] is None
    assert body["customer"]["masked_email"] is None
    assert body["attachments"] == [{"url": None, "media_type": "image/jpeg", "size": 2048}]
    assert body["metadata"] == {"store": "", "device": ""}
    assert [m["text"] for m in body["conversation"]] == [None] * 4
    assert body["conversation"][0]["attachments"][0]["url"] is None
    history = {a["action"]: a["detail"] for a in body["actions"]}
    assert history["first_response_sent"]["message"] is None
    assert history["agent_replied"]["message"] is None
    assert history["awaiting_customer"]["reason"] is None
    # Only the reference is left to search by.
    async with database.sessions() as session:
        terms = await CaseFileRepository(session).terms(cid)
    assert terms == ["000001", "20261201", "c-20261201-000001"]

    search = await client.get("/v1/cases", params={"q": "退款"}, headers=MANAGER)
    assert search.json()["items"] == []
    by_reference = await client.get("/v1/cases", params={"q": "C-20261201-000001"}, headers=MANAGER)
    assert [i["complaint_id"] for i in by_reference.json()["items"]] == [cid]
