"""GET /v1/cases: each filter (OR within, AND across), the order by time to breach, keyset
pages while complaints keep arriving, search (Chinese, English, references), what each
role sees, and the 422s."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.events import SlaBreached, SlaWarning
from complaint_runtime.database import Database
from sqlalchemy import event

from .conftest import (
    BILLING_LEAD,
    LEAK,
    LI,
    MANAGER,
    NOW,
    PARCEL,
    QUALITY_LEAD,
    WANG,
    Receive,
    StartClock,
    auth,
    seconds_until,
)

Ids = list[str]


async def ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Ids:
    response = await client.get("/v1/cases", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["complaint_id"] for item in response.json()["items"]]


async def warn(feed: Any, cid: str, clock_id: str, percent: int = 75) -> None:
    await feed(
        SlaWarning(
            complaint_id=cid,
            clock_id=clock_id,
            metric="resolution",
            percent=percent,
            reached_at=NOW,
            due_at=NOW + timedelta(hours=1),
            priority="P3",
        )
    )


async def breach(feed: Any, cid: str, clock_id: str) -> None:
    await feed(
        SlaBreached(
            complaint_id=cid,
            clock_id=clock_id,
            metric="resolution",
            due_at=NOW,
            priority="P3",
            breach_count=1,
        )
    )


async def test_each_filter_and_their_combination(
    client: httpx.AsyncClient, receive: Receive, start_clock: StartClock, feed: Any
) -> None:
    refund = await receive(channel="web")  # billing, agent-li, P3
    vip = await receive(channel="app", customer={"tier": "vip"})  # billing, agent-li, P2
    leak = await receive(subject=LEAK[0], description=LEAK[1], channel="app")  # quality
    parcel = await receive(subject=PARCEL[0], description=PARCEL[1])  # logistics, queued
    await client.post(f"/v1/cases/{refund}/first-response", headers=LI)  # in_progress
    at_risk = await start_clock(leak, due_in=timedelta(hours=1))
    await warn(feed, leak, at_risk)
    late = await start_clock(parcel, due_in=timedelta(hours=2))
    await breach(feed, parcel, late)
    both = await start_clock(vip, due_in=timedelta(hours=3))
    await warn(feed, vip, both)
    await breach(feed, vip, await start_clock(vip, metric="first_response"))

    everything = {refund, vip, leak, parcel}
    assert set(await ids(client, MANAGER)) == everything
    assert set(await ids(client, LI, assignee="me")) == {refund, vip}
    assert set(await ids(client, MANAGER, assignee="agent-wang")) == {leak}
    assert set(await ids(client, MANAGER, team=["quality", "logistics"])) == {leak, parcel}
    assert set(await ids(client, MANAGER, status="in_progress")) == {refund}
    assert set(await ids(client, MANAGER, status=["in_progress", "assigned"])) == everything
    assert set(await ids(client, MANAGER, priority="P2")) == {vip}
    assert set(await ids(client, MANAGER, sla="at_risk")) == {leak, vip}
    assert set(await ids(client, MANAGER, sla="breached")) == {parcel, vip}
    assert set(await ids(client, MANAGER, sla=["at_risk", "breached"])) == {leak, parcel, vip}
    assert set(await ids(client, MANAGER, channel="app")) == {vip, leak}
    assert set(await ids(client, MANAGER, category="delivery_logistics")) == {parcel}
    assert set(await ids(client, MANAGER, channel="app", team="billing")) == {vip}
    assert await ids(client, MANAGER, channel="app", status="in_progress") == []


async def test_a_row_holds_what_a_queue_needs(
    client: httpx.AsyncClient, receive: Receive, start_clock: StartClock
) -> None:
    cid = await receive(channel="wechat", customer={"tier": "gold"})
    await start_clock(cid, due_in=timedelta(hours=2))
    body = (await client.get("/v1/cases", headers=LI)).json()
    assert body["next"] is None
    [row] = body["items"]
    assert {k: row[k] for k in row if k not in {"sla_due_at", "sla_time_left_s"}} == {
        "complaint_id": cid,
        "reference": "C-20261201-000001",
        "subject": "退款迟迟未到账",
        "channel": "wechat",
        "tier": "gold",
        "priority": "P2",
        "status": "assigned",
        "category": "billing_refund",
        "subcategory": row["subcategory"],
        "team": "billing",
        "assignee": "agent-li",
        "escalation_level": 0,
        "version": 3,  # received, triaged, assigned: the clock does not move it
        "sla_state": "on_track",
        "sla_warned_percent": None,
        "last_activity_at": row["last_activity_at"],
        "received_at": row["received_at"],
    }
    assert abs(row["sla_time_left_s"] - seconds_until(NOW + timedelta(hours=2))) <= 5
    assert row["last_activity_at"] >= row["received_at"]


async def test_a_row_has_the_warning_percent_of_its_clock_due_first(
    client: httpx.AsyncClient,
    receive: Receive,
    start_clock: StartClock,
    feed: Any,
    database: Database,
) -> None:
    urgent = await receive()
    clock = await start_clock(urgent, due_in=timedelta(hours=1))
    await warn(feed, urgent, clock, percent=50)
    await warn(feed, urgent, clock, percent=90)
    await warn(feed, urgent, clock, percent=75)  # late and lower: the highest stays
    quiet = await receive()
    await start_clock(quiet, due_in=timedelta(hours=2))
    # warned on a clock due later than its first: the badge is of the clock due first
    other = await receive()
    await start_clock(other, due_in=timedelta(hours=3))
    await warn(feed, other, await start_clock(other, due_in=timedelta(hours=5)), percent=75)
    late = await receive()
    clock = await start_clock(late, due_in=timedelta(minutes=30))
    await warn(feed, late, clock, percent=90)
    await breach(feed, late, clock)
    no_clock = await receive()

    body = (await client.get("/v1/cases", headers=MANAGER)).json()
    rows = {row["complaint_id"]: row for row in body["items"]}
    assert {cid: (r["sla_state"], r["sla_warned_percent"]) for cid, r in rows.items()} == {
        late: ("breached", None),
        urgent: ("at_risk", 90),
        quiet: ("on_track", None),
        other: ("at_risk", None),
        no_clock: (None, None),
    }

    # one query for the page's warnings, never one per row: a page of one costs what a
    # page of five does
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        costs = []
        for limit in (1, 5):
            statements.clear()
            response = await client.get("/v1/cases", params={"limit": limit}, headers=MANAGER)
            assert len(response.json()["items"]) == limit
            costs.append(len(statements))
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert costs[0] == costs[1], costs
    assert sum("case_sla_clocks" in s for s in statements) == 1, statements


async def test_sorted_by_time_to_breach_then_received_time(
    client: httpx.AsyncClient, receive: Receive, start_clock: StartClock
) -> None:
    no_clock_old = await receive(received_at=NOW - timedelta(hours=5))
    later = await receive()
    sooner = await receive()
    no_clock_new = await receive(received_at=NOW - timedelta(hours=1))
    overdue = await receive()
    tie_first = await receive(received_at=NOW - timedelta(hours=3))
    tie_second = await receive(received_at=NOW - timedelta(hours=2))
    await start_clock(later, due_in=timedelta(hours=8))
    await start_clock(sooner, due_in=timedelta(hours=2))
    await start_clock(sooner, metric="first_response", due_in=timedelta(minutes=30))
    await start_clock(overdue, due_in=timedelta(minutes=-10))
    for cid in (tie_second, tie_first):
        await start_clock(cid, due_in=timedelta(hours=4))

    assert await ids(client, MANAGER) == [
        overdue,
        sooner,
        tie_first,
        tie_second,
        later,
        no_clock_old,
        no_clock_new,
    ]


async def test_pages_while_complaints_keep_arriving_see_every_case_once(
    client: httpx.AsyncClient, receive: Receive, start_clock: StartClock
) -> None:
    existing = []
    for n in range(13):
        cid = await receive(received_at=NOW - timedelta(minutes=n))
        if n % 4:  # every fourth without a clock: at the end of the list
            await start_clock(cid, due_in=timedelta(minutes=10 * (n % 5) + 5))
        existing.append(cid)

    seen: Ids = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4, "status": "assigned"}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/v1/cases", params=params, headers=MANAGER)).json()
        seen += [item["complaint_id"] for item in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
        # New complaints land before, among and after the rows already paged.
        for due in (timedelta(minutes=-30), timedelta(minutes=27), None):
            arrived = await receive()
            if due is not None:
                await start_clock(arrived, due_in=due)

    assert pages >= 4
    assert len(seen) == len(set(seen))  # nothing repeated
    assert set(existing) <= set(seen)  # nothing lost


async def test_search_in_chinese_english_and_references(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    refund = await receive(order_ref="ORD-7781")
    leak = await receive(subject=LEAK[0], description=LEAK[1])
    english = await receive(
        subject="Refund missing",
        description="The REFUND for my order never arrived",
        customer={"customer_ref": "cr_English_Customer"},
    )
    assert set(await ids(client, MANAGER, q="退款")) == {refund}
    assert await ids(client, MANAGER, q="漏水") == [leak]
    assert await ids(client, MANAGER, q="热水器 漏水") == [leak]
    assert await ids(client, MANAGER, q="漏水 退款") == []  # every word must be there
    assert await ids(client, MANAGER, q="发票") == []  # in no complaint
    assert await ids(client, MANAGER, q="refund") == [english]
    assert await ids(client, MANAGER, q="rEfUnD Arrived") == [english]
    assert await ids(client, MANAGER, q="c-20261201-000002") == [leak]
    assert await ids(client, MANAGER, q="C-20261201-000002") == [leak]
    assert await ids(client, MANAGER, q="ord-7781") == [refund]
    assert await ids(client, MANAGER, q="cr_english_customer") == [english]
    assert await ids(client, MANAGER, q="的") == []
    assert set(await ids(client, MANAGER, q="  ")) == {refund, leak, english}  # no search
    assert await ids(client, MANAGER, q="退款", team="quality") == []


async def test_a_list_holds_only_visible_cases(client: httpx.AsyncClient, receive: Receive) -> None:
    billing = await receive()  # agent-li
    queued = await receive(subject=PARCEL[0], description=PARCEL[1])  # logistics queue
    quality = await receive(subject=LEAK[0], description=LEAK[1])  # agent-wang
    # agent-wang signed in for the billing team: billing's cases and their own.
    wang_in_billing = auth("agent-wang", "agent", team="billing")

    assert set(await ids(client, LI)) == {billing}
    assert set(await ids(client, WANG)) == {quality}
    assert set(await ids(client, wang_in_billing)) == {billing, quality}
    assert set(await ids(client, BILLING_LEAD)) == {billing}
    assert set(await ids(client, QUALITY_LEAD)) == {quality}
    assert set(await ids(client, MANAGER)) == {billing, queued, quality}
    assert await ids(client, auth("lead-x", "lead")) == []  # no team: nothing
    assert await ids(client, wang_in_billing, team="quality") == [quality]
    assert await ids(client, WANG, assignee="agent-li") == []  # filters only narrow


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "lost"}, "status.0"),
        ({"status": ["assigned", "lost"]}, "status.1"),
        ({"priority": "P5"}, "priority.0"),
        ({"sla": "late"}, "sla.0"),
        ({"channel": "fax"}, "channel.0"),
        ({"category": "billing"}, "category.0"),
        ({"assignee": "a@b.com"}, "assignee.0"),
        ({"q": "x" * 201}, "q"),
    ],
)
async def test_bad_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/cases", params=params, headers=MANAGER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/validation")
    assert [e["field"] for e in body["errors"]] == [field]


async def test_a_search_of_too_many_words_is_422(client: httpx.AsyncClient) -> None:
    q = " ".join(f"word{i}" for i in range(13))
    response = await client.get("/v1/cases", params={"q": q}, headers=MANAGER)
    assert response.status_code == 422, response.text
    assert "at most 12" in response.json()["detail"]


async def test_a_bad_cursor_is_422_never_the_first_page(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    for _ in range(3):
        await receive()
    first = (await client.get("/v1/cases", params={"limit": 2}, headers=MANAGER)).json()
    assert first["next"] is not None
    for cursor in ("garbage", str(uuid.uuid4()), first["next"][:-3]):
        response = await client.get("/v1/cases", params={"cursor": cursor}, headers=MANAGER)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["type"].endswith("/invalid-cursor")
        assert body["errors"][0]["field"] == "cursor"
    other_filters = await client.get(
        "/v1/cases",
        params={"limit": 2, "cursor": first["next"], "status": "assigned"},
        headers=MANAGER,
    )
    assert other_filters.status_code == 422
    assert "other filters" in other_filters.json()["detail"]
    second = await client.get(
        "/v1/cases", params={"limit": 2, "cursor": first["next"]}, headers=MANAGER
    )
    assert second.status_code == 200
    assert len(second.json()["items"]) == 1
    assert second.json()["next"] is None


async def test_the_list_needs_a_reading_role(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/cases")).status_code == 401
    assert (await client.get("/v1/cases", headers=auth("x"))).status_code == 403
