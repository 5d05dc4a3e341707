"""Linking and unlinking duplicates by hand over routing's API on SQLite: the events each
command stages, both cases' histories and case files, the agent's load, and the refusals."""

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
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintTriaged,
    CustomerMessageReceived,
    CustomerView,
)
from complaint_runtime.database import Database
from routing.casefile.api import router as case_file_router
from routing.db import Agent
from routing.duplicates.api import router
from routing.duplicates.db import CustomerComplaint

from ..conftest import staff_auth as auth

Names = Callable[[list[Envelope]], list[str]]
T0 = datetime.now(UTC) - timedelta(days=2)
REFUND = "我10月28日申请的退款到现在还没到账，退款延迟太久了。"
OTHER_REFUND = "上个月退货的退款还没有退回到我的银行卡，请尽快处理退款。"


LI = auth("agent-li", "agent", team="billing")
WANG = auth("agent-wang", "agent", team="billing")  # of the team, not the assignee
QUALITY_AGENT = auth("agent-qi", "agent", team="quality")
LEAD = auth("lead-zhao", "lead", team="billing")
MANAGER = auth("mgr-sun", "manager")


def received(
    *,
    key: str = "email:" + "a" * 32,
    text: str = REFUND,
    at: datetime = T0,
    channel: str = "web",
) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=str(uuid.uuid4()),
        reference=f"C-20261120-{uuid.uuid4().int % 1_000_000:06d}",
        channel=channel,  # type: ignore[arg-type]
        customer=CustomerView(customer_ref=f"ref-{key[-4:]}", identity_keys=(key,)),
        subject="退款问题",
        description=text,
        received_at=at,
    )


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed([{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 10}])
    async with api_client(router, case_file_router) as c:
        yield c


async def two_cases(feed: Any) -> tuple[str, str]:
    """Two complaints of two customers about a refund: two cases, both agent-li's."""
    first = received(key="email:" + "a" * 32)
    second = received(key="email:" + "b" * 32, text=OTHER_REFUND, at=T0 + timedelta(hours=1))
    await feed(first)
    await feed(second)
    return first.complaint_id, second.complaint_id


async def held_copy(feed: Any, *, key: str = "email:" + "a" * 32) -> tuple[str, str]:
    """A complaint and its automatic copy (same customer, same text, another channel)."""
    original = received(key=key)
    copy = received(key=key, channel="app", at=T0 + timedelta(minutes=3))
    await feed(original)
    await feed(copy)
    return original.complaint_id, copy.complaint_id


async def load_of(database: Database, agent_id: str) -> int:
    async with database.sessions() as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
        return agent.open_load


async def case_file(client: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    response = await client.get(f"/v1/cases/{cid}", headers=MANAGER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def problem(response: httpx.Response, status: int, reason: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if reason is not None:
        assert body["reason"] == reason, body
    return body


async def link(
    client: httpx.AsyncClient, copy: str, original: str, headers: dict[str, str], **extra: Any
) -> httpx.Response:
    body = {"original_id": original, "reason": "the same refund, asked twice", **extra}
    return await client.post(f"/v1/cases/{copy}/duplicate-of", json=body, headers=headers)


async def unlink(
    client: httpx.AsyncClient, copy: str, headers: dict[str, str], **extra: str
) -> httpx.Response:
    return await client.post(
        f"/v1/cases/{copy}/duplicate-of/unlink",
        json={"reason": "another order: not the same problem"},
        headers={**headers, **extra},
    )


async def test_an_agent_of_the_team_merges_a_case_into_another(
    client: httpx.AsyncClient, database: Database, feed: Any, outbox: Any, names: Names
) -> None:
    original, copy = await two_cases(feed)
    assert await load_of(database, "agent-li") == 2
    response = await link(
        client, copy, original, WANG, reason="same refund; she called from 13812345678"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["close_reason"]) == ("closed", "duplicate")
    assert response.headers["ETag"] == f'"{body["version"]}"'
    events = await outbox(copy)
    assert names(events) == [
        "complaint.triaged",
        "complaint.assigned",
        "complaint.duplicate_linked",
        "complaint.closed",
    ]
    linked, closed = events[2].data, events[3].data
    assert isinstance(linked, ComplaintDuplicateLinked)
    assert (linked.duplicate_of, linked.matched_on) == (original, ("manual",))
    assert (linked.similarity, linked.actor) == (None, "agent-wang")
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.actor, closed.evidence_event_id) == (
        "duplicate",
        "agent-wang",
        None,
    )
    entries = {a["action"]: a for a in body["actions"]}
    assert entries["duplicate_linked"]["detail"]["duplicate_of"] == original
    assert entries["duplicate_linked"]["detail"]["matched_on"] == ["manual"]
    assert "13812345678" not in str(body["actions"])  # the reason is masked
    assert entries["closed"]["detail"] == {
        "reason": "duplicate",
        "original": original,
        "merged": True,
    }
    # The copy's slot is free again; the original stays where it was.
    assert await load_of(database, "agent-li") == 1
    assert names(await outbox(original)) == ["complaint.triaged", "complaint.assigned"]
    standing = await case_file(client, original)
    assert [c["complaint_id"] for c in standing["duplicates"]["copies"]] == [copy]
    assert standing["actions"][-1]["action"] == "duplicate_received"
    assert standing["actions"][-1]["detail"]["duplicate"] == copy
    merged = await case_file(client, copy)
    assert merged["duplicates"]["duplicate_of"]["complaint_id"] == original
    # Closed by the merge: it cannot be unlinked.
    body = problem(await unlink(client, copy, MANAGER), 409, "closed_by_merge")
    assert "merged" in body["detail"]


async def test_link_refusals(
    client: httpx.AsyncClient, feed: Any, outbox: Any, names: Names
) -> None:
    original, other = await two_cases(feed)
    problem(await link(client, other, other, LI), 409, "self")
    problem(await link(client, other, str(uuid.uuid4()), LI), 404)
    problem(await link(client, other, original, LI, reason=""), 422)
    problem(await link(client, other, original, LI, reason="x" * 2001), 422)
    problem(await link(client, other, original, LI, original_id="not an id!"), 422)
    # Who: another team's agent does not see it, an agent token without a team may not.
    problem(await link(client, other, original, QUALITY_AGENT), 404)
    problem(await link(client, other, original, auth("agent-li", "agent")), 403)
    problem(await link(client, other, original, {**LI, "If-Match": '"1"'}), 409)
    assert names(await outbox(other)) == ["complaint.triaged", "complaint.assigned"]

    # A case with a copy waiting on it cannot become a copy; a copy is no original.
    first, held = await held_copy(feed, key="email:" + "c" * 32)
    problem(await link(client, first, original, LI), 409, "has_open_copies")
    problem(await link(client, original, held, MANAGER), 409, "original_is_duplicate")
    problem(await link(client, held, original, MANAGER), 409, "already_duplicate")
    # Merged (closed): neither side of another link.
    assert (await link(client, other, original, LI)).status_code == 200
    problem(await link(client, other, original, LI), 409, "copy_closed")
    problem(await link(client, original, other, LI), 409, "original_closed")


async def test_a_lead_unlinks_a_held_copy_which_is_triaged_and_assigned(
    client: httpx.AsyncClient, database: Database, feed: Any, outbox: Any, names: Names
) -> None:
    original, copy = await held_copy(feed)
    # The held copy has no team: the lead sees it through its original.
    response = await unlink(client, copy, LEAD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["team"], body["assignee"]) == ("assigned", "billing", "agent-li")
    assert body["category"] == "billing_refund"
    assert "duplicate.linked" not in [r["rule"] for r in body["rules_fired"]]
    events = await outbox(copy)
    assert names(events) == [
        "complaint.duplicate_linked",
        "complaint.duplicate_unlinked",
        "complaint.triaged",
        "complaint.assigned",
    ]
    unlinked, triaged = events[1].data, events[2].data
    assert isinstance(unlinked, ComplaintDuplicateUnlinked)
    assert (unlinked.duplicate_of, unlinked.actor) == (original, "lead-zhao")
    assert unlinked.reason == "another order: not the same problem"
    assert isinstance(triaged, ComplaintTriaged)
    # Its former original is an earlier complaint of the customer in the category.
    assert (triaged.repeat_count, triaged.channel) == (1, "app")
    actions = [a["action"] for a in body["actions"]]
    assert actions == ["received", "duplicate_linked", "duplicate_unlinked", "triaged", "assigned"]
    async with database.sessions() as session:
        entry = await session.get(CustomerComplaint, copy)
        assert entry is not None
        assert (entry.duplicate_of, entry.repeat_count) == (None, 1)
    standing = await case_file(client, original)
    assert standing["duplicates"]["copies"] == []
    assert standing["actions"][-1]["action"] == "duplicate_unlinked"
    assert standing["actions"][-1]["detail"]["duplicate"] == copy
    assert (await case_file(client, copy))["duplicates"]["duplicate_of"] is None
    problem(await unlink(client, copy, LEAD), 409, "not_linked")


async def test_unlink_refusals_and_a_held_copy_the_customer_wrote_to(
    client: httpx.AsyncClient, feed: Any, outbox: Any, names: Names
) -> None:
    _, copy = await held_copy(feed)
    await feed(
        CustomerMessageReceived(
            complaint_id=copy,
            message_id="msg-1",
            channel="app",
            customer_ref="ref-aaaa",
            text="还没到账，太慢了",
            received_at=T0 + timedelta(minutes=5),
        )
    )
    problem(await unlink(client, copy, QUALITY_AGENT), 404)
    problem(await unlink(client, str(uuid.uuid4()), MANAGER), 404)
    problem(await unlink(client, copy, {**LI, "If-Match": '"7"'}), 409)
    response = await client.post(
        f"/v1/cases/{copy}/duplicate-of/unlink", json={"reason": " "}, headers=LI
    )
    problem(response, 422)
    assert names(await outbox(copy)) == ["complaint.duplicate_linked"]
    # Its streak was started by the message: the late triage keeps it.
    response = await unlink(client, copy, LI, **{"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"


async def test_a_merged_copy_the_customer_reopened_is_unlinked_without_a_new_triage(
    client: httpx.AsyncClient, feed: Any, outbox: Any, names: Names
) -> None:
    original, copy = await two_cases(feed)
    assert (await link(client, copy, original, LI)).status_code == 200
    await feed(
        ComplaintReopened(
            complaint_id=copy, reason="customer_message", reopened_at=datetime.now(UTC)
        )
    )
    response = await unlink(client, copy, LI)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"
    assert names(await outbox(copy))[-2:] == ["complaint.assigned", "complaint.duplicate_unlinked"]
    standing = await case_file(client, original)
    assert standing["duplicates"]["copies"] == []


async def test_an_unlinked_copy_counts_only_the_complaints_received_before_it_as_repeats(
    client: httpx.AsyncClient, database: Database, feed: Any, outbox: Any
) -> None:
    _, copy = await held_copy(feed)
    later = received(text=OTHER_REFUND, at=T0 + timedelta(hours=1))
    await feed(later)
    async with database.sessions() as session:
        entry = await session.get(CustomerComplaint, later.complaint_id)
        assert entry is not None
        assert entry.duplicate_of is None  # a complaint of its own, after the copy
    response = await unlink(client, copy, LEAD)
    assert response.status_code == 200, response.text
    triaged = (await outbox(copy))[2].data
    assert isinstance(triaged, ComplaintTriaged)
    assert triaged.repeat_count == 1  # its former original; not the later complaint


async def test_a_reopened_merged_copy_does_not_keep_its_original_from_being_merged(
    client: httpx.AsyncClient, feed: Any
) -> None:
    original, copy = await two_cases(feed)
    assert (await link(client, copy, original, LI)).status_code == 200
    await feed(
        ComplaintReopened(
            complaint_id=copy, reason="customer_message", reopened_at=datetime.now(UTC)
        )
    )
    third = received(key="email:" + "c" * 32, at=T0 + timedelta(hours=2))
    await feed(third)
    # The reopened copy is open and linked, but held by nothing: it waits on no closure.
    response = await link(client, original, third.complaint_id, LI)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
