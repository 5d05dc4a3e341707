"""Duplicates, repeats, the irritation streak and supervisor corrections through routing's
use cases and API on SQLite: the events each one stages and what the case records."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintConfirmed,
    ComplaintDuplicateLinked,
    ComplaintRecategorized,
    ComplaintReceived,
    ComplaintTriaged,
    CustomerMessageReceived,
    CustomerView,
    ErasureRequested,
)
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from routing.cases import service as cases
from routing.cases.api import router as cases_router
from routing.db import Case
from routing.duplicates.db import CustomerComplaint, CustomerIdentityKey
from sqlalchemy import select

from ..conftest import staff_auth

Names = Callable[[list[Envelope]], list[str]]
T0 = datetime.now(UTC) - timedelta(days=10)
EMAIL = "email:" + "e" * 32
PHONE = "phone:" + "f" * 32
REFUND = "我10月28日申请的退款到现在还没到账，退款延迟太久了。"
AGENT = Principal("agent-li", frozenset({"agent"}), "billing")
SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}


def received(
    *,
    keys: tuple[str, ...] = (EMAIL,),
    ref: str = "cus_web",
    text: str = REFUND,
    channel: str = "web",
    at: datetime = T0,
    order_ref: str | None = None,
) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=str(uuid.uuid4()),
        reference=f"C-20261120-{uuid.uuid4().int % 1_000_000:06d}",
        channel=channel,  # type: ignore[arg-type]
        customer=CustomerView(customer_ref=ref, identity_keys=keys),
        subject="投诉",
        description=text,
        order_ref=order_ref,
        received_at=at,
    )


async def case_of(database: Database, complaint_id: str) -> Case:
    return (await cases.view_case(database=database, complaint_id=complaint_id)).case


@pytest.fixture
async def li(seed: Any) -> None:
    await seed([{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 10}])


async def test_the_same_complaint_on_another_channel_is_linked_not_a_second_case(
    database: Database, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    web = received()
    app = received(keys=(EMAIL, PHONE), ref="cus_app", channel="app", at=T0 + timedelta(minutes=3))
    await feed(web)
    await feed(app)
    assert names(await outbox(web.complaint_id)) == ["complaint.triaged", "complaint.assigned"]
    events = await outbox(app.complaint_id)
    assert names(events) == ["complaint.duplicate_linked"]
    linked = events[0].data
    assert isinstance(linked, ComplaintDuplicateLinked)
    assert linked.duplicate_of == web.complaint_id
    assert linked.matched_on == ("same_email", "similar_text")
    copy = await case_of(database, app.complaint_id)
    assert (copy.status, copy.assignee, copy.team) == ("received", None, None)
    view = await cases.view_case(database=database, complaint_id=web.complaint_id)
    assert "duplicate_received" in [a.action for a in view.actions]
    assert view.case.assignee == "agent-li"


async def test_a_third_copy_links_to_the_original_not_to_the_copy(
    database: Database, li: None, feed: Any, outbox: Any
) -> None:
    first, second, third = (received(at=T0 + timedelta(minutes=m)) for m in (0, 1, 2))
    for event in (first, second, third):
        await feed(event)
    linked = (await outbox(third.complaint_id))[0].data
    assert isinstance(linked, ComplaintDuplicateLinked)
    assert linked.duplicate_of == first.complaint_id


async def test_after_the_window_it_is_a_new_case(
    li: None, feed: Any, outbox: Any, names: Names
) -> None:
    first = received()
    later = received(at=T0 + timedelta(hours=72, minutes=1))
    await feed(first)
    await feed(later)
    assert names(await outbox(later.complaint_id)) == ["complaint.triaged", "complaint.assigned"]


async def test_the_copy_closes_with_its_original(
    database: Database, li: None, feed: Any, outbox: Any
) -> None:
    original = received(order_ref="ORD-1")
    copy = received(text="Where is my money?", order_ref="ord 1", at=T0 + timedelta(hours=5))
    await feed(original)
    await feed(copy)
    linked = (await outbox(copy.complaint_id))[0].data
    assert isinstance(linked, ComplaintDuplicateLinked)
    assert "same_order_ref" in linked.matched_on
    await cases.record_first_response(
        database=database, complaint_id=original.complaint_id, principal=AGENT
    )
    await cases.resolve(
        database=database, complaint_id=original.complaint_id, principal=AGENT, **SOLUTION
    )
    await feed(
        ComplaintConfirmed(
            complaint_id=original.complaint_id, request_id="req-1", csat=5, answered_at=T0
        )
    )
    closed = (await outbox(copy.complaint_id))[-1].data
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.actor) == ("duplicate", "routing")
    case = await case_of(database, copy.complaint_id)
    assert (case.status, case.close_reason) == ("closed", "duplicate")


async def test_a_closed_original_does_not_swallow_a_new_complaint(
    database: Database, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    original = received()
    await feed(original)
    await cases.record_first_response(
        database=database, complaint_id=original.complaint_id, principal=AGENT
    )
    await cases.resolve(
        database=database, complaint_id=original.complaint_id, principal=AGENT, **SOLUTION
    )
    await feed(
        ComplaintConfirmed(
            complaint_id=original.complaint_id, request_id="req-1", csat=5, answered_at=T0
        )
    )
    again = received(at=T0 + timedelta(hours=1))
    await feed(again)
    assert names(await outbox(again.complaint_id))[0] == "complaint.triaged"


async def test_the_third_complaint_in_a_category_is_a_repeat_raised_one_level(
    li: None, feed: Any, outbox: Any
) -> None:
    texts = [
        REFUND,
        "上个月退货的退款还没有退回到我的银行卡。",
        "The refund for my cancelled order is still not in my account.",
    ]
    events = [
        received(text=text, keys=(EMAIL,), ref=f"cus_{i}", at=T0 + timedelta(days=i * 5))
        for i, text in enumerate(texts)
    ]
    triaged: list[ComplaintTriaged] = []
    for event in events:
        await feed(event)
        first = (await outbox(event.complaint_id))[0].data
        assert isinstance(first, ComplaintTriaged), first
        triaged.append(first)
    assert [t.category for t in triaged] == ["billing_refund"] * 3
    assert [t.repeat_count for t in triaged] == [0, 1, 2]
    assert [t.priority for t in triaged] == ["P3", "P3", "P2"]
    rules = [r.rule for r in triaged[2].rules_fired]
    assert "priority.raise.repeat" in rules
    assert "priority.raise.repeat" not in [r.rule for r in triaged[1].rules_fired]


async def test_three_messages_with_the_same_irritation_word_turn_blue_to_yellow(
    database: Database, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    complaint = received(text="麻烦帮我查一下退款进度")
    await feed(complaint)
    assert (await case_of(database, complaint.complaint_id)).emotion == "blue"

    def message(text: str) -> CustomerMessageReceived:
        return CustomerMessageReceived(
            complaint_id=complaint.complaint_id,
            message_id=str(uuid.uuid4()),
            channel="app",
            customer_ref="cus_web",
            text=text,
            received_at=datetime.now(UTC),
        )

    await feed(message("麻烦尽快处理"))
    assert names(await outbox(complaint.complaint_id))[-1] == "complaint.assigned"
    await feed(message("麻烦给个答复"))
    change = (await outbox(complaint.complaint_id))[-1].data
    assert isinstance(change, ComplaintRecategorized)
    assert (change.old_emotion, change.new_emotion) == ("blue", "yellow")
    assert change.old_priority == change.new_priority  # a yellow never moves the priority
    assert [r.rule for r in change.rules_fired] == ["emotion.streak"]
    case = await case_of(database, complaint.complaint_id)
    assert case.emotion == "yellow"
    assert case.rules_fired[-1]["rule"] == "emotion.streak"
    await feed(message("麻烦了"))
    assert len([n for n in names(await outbox(complaint.complaint_id)) if "recat" in n]) == 1


# -- supervisor corrections over HTTP


def auth(sub: str, *roles: str, team: str | None = None) -> dict[str, str]:
    return staff_auth(sub, *roles, team=team)


@pytest.fixture
async def client(api_client: Any, li: None) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(cases_router) as c:
        yield c


def is_problem(response: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if kind:
        assert body["type"].endswith(f"/{kind}"), body
    return body


async def test_a_lead_sets_p1_recorded_as_a_supervisor_decision(
    client: httpx.AsyncClient, feed: Any, outbox: Any
) -> None:
    complaint = received()
    await feed(complaint)
    url = f"/v1/cases/{complaint.complaint_id}/recategorize"
    body = {"priority": "P1", "reason": "refund for a hospital bill, call 13812345678"}
    response = await client.post(url, json=body, headers=auth("lead-zhao", "lead", team="billing"))
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["priority"] == "P1"
    assert view["rules_fired"][-1]["rule"] == "supervisor.decision"
    event = (await outbox(complaint.complaint_id))[-1].data
    assert isinstance(event, ComplaintRecategorized)
    assert (event.old_priority, event.new_priority, event.actor) == ("P3", "P1", "lead-zhao")
    assert "13812345678" not in event.reason  # masked (§10)
    assert [r.rule for r in event.rules_fired] == ["supervisor.decision"]


async def test_a_new_category_clears_the_old_subcategory(
    client: httpx.AsyncClient, feed: Any, outbox: Any
) -> None:
    complaint = received()
    await feed(complaint)
    response = await client.post(
        f"/v1/cases/{complaint.complaint_id}/recategorize",
        json={"category": "delivery_logistics", "reason": "it is the parcel"},
        headers=auth("mgr-sun", "manager"),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["category"], response.json()["subcategory"]) == (
        "delivery_logistics",
        None,
    )
    event = (await outbox(complaint.complaint_id))[-1].data
    assert isinstance(event, ComplaintRecategorized)
    assert (event.old_category, event.new_category) == ("billing_refund", "delivery_logistics")


async def test_agents_and_other_teams_leads_are_refused(
    client: httpx.AsyncClient, feed: Any
) -> None:
    complaint = received()
    await feed(complaint)
    url = f"/v1/cases/{complaint.complaint_id}/recategorize"
    body = {"priority": "P2", "reason": "vip"}
    is_problem(
        await client.post(url, json=body, headers=auth("agent-li", "agent", team="billing")), 403
    )
    # Another team's lead does not see the case at all: 404, as for an unknown case.
    is_problem(
        await client.post(url, json=body, headers=auth("lead-q", "lead", team="quality")), 404
    )
    is_problem(await client.post(url, json=body), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"priority": "P0", "reason": "x"},
        {"category": "weather", "reason": "x"},
        {"priority": "P2"},
        {"priority": "P2", "reason": ""},
        {"reason": "nothing asked"},
        {"subcategory": "Not A Code", "reason": "x"},
        {"priority": "P2", "reason": "x", "team": "billing"},
    ],
)
async def test_invalid_values_are_422_problems(
    client: httpx.AsyncClient, feed: Any, body: dict[str, Any]
) -> None:
    complaint = received()
    await feed(complaint)
    is_problem(
        await client.post(
            f"/v1/cases/{complaint.complaint_id}/recategorize",
            json=body,
            headers=auth("mgr-sun", "manager"),
        ),
        422,
    )


async def test_no_change_unknown_case_and_a_copy_are_refused(
    client: httpx.AsyncClient, feed: Any
) -> None:
    manager = auth("mgr-sun", "manager")
    original, copy = received(), received(at=T0 + timedelta(minutes=1))
    await feed(original)
    await feed(copy)
    same = {"priority": "P3", "reason": "x"}
    url = f"/v1/cases/{original.complaint_id}/recategorize"
    is_problem(await client.post(url, json=same, headers=manager), 409, "no-change")
    unknown = f"/v1/cases/{uuid.uuid4()}/recategorize"
    is_problem(await client.post(unknown, json=same, headers=manager), 404)
    copy_url = f"/v1/cases/{copy.complaint_id}/recategorize"
    is_problem(
        await client.post(copy_url, json={"priority": "P2", "reason": "x"}, headers=manager),
        409,
        "illegal-transition",
    )


async def test_erasure_removes_the_keys_that_link_the_customer(
    database: Database, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    first = received()
    await feed(first)
    await feed(
        ErasureRequested(
            complaint_id=first.complaint_id,
            erasure_id="era-1",
            customer_ref="cus_web",
            reason="customer_request",
            requested_at=datetime.now(UTC),
            actor="agent-li",
        )
    )
    async with database.sessions() as session:
        keys = list(await session.scalars(select(CustomerIdentityKey)))
        row = await session.get(CustomerComplaint, first.complaint_id)
    assert keys == []
    assert row is not None
    assert row.fingerprint == ""
    again = received(at=T0 + timedelta(minutes=1))
    await feed(again)
    assert names(await outbox(again.complaint_id))[0] == "complaint.triaged"
