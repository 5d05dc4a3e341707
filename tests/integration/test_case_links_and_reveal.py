"""Staff's hand on duplicates and on a customer's raw contact, through real Kafka, real
PostgreSQL and every service (§4, §10):

- an automatic duplicate a lead unlinks becomes a complaint of its own: routing triages and
  assigns it, and sla-watch arms its clocks (they show in routing's case file);
- two distinct complaints an agent of the team merges by hand: the copy closes as a
  duplicate (its clocks cancelled by sla-watch) and both case files show the link;
- a lead reveals a customer's contact: the values are what the customer posted (routing
  asks intake's internal API), never cached, and the case's history says who revealed
  which fields and why without the values; an agent may not.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.envelope import decode
from complaint_contracts.events import (
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
    ComplaintTriaged,
)
from harness import wait_for
from kafka_tools import POISON_HEADER, header, read_all

from conftest import Platform, agent_id

TEAM = "billing"
REFUND = "我10月28日申请的退款到现在还没到账，请帮忙查一下。"
OTHER_REFUND = "上个月退货的退款还没有退回到我的银行卡，已经等了三周。"
TRIAGE_METRICS = {"first_response", "resolution"}


def _customer(**contact: str) -> dict[str, Any]:
    return {**contact, "language": "zh-CN"}


def _post(platform: Platform, channel: str, customer: dict[str, Any], text: str) -> str:
    body = {"channel": channel, "customer": customer, "subject": "退款问题", "description": text}
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    complaint_id: str = response.json()["id"]
    return complaint_id


def _staff(platform: Platform, subject: str, role: str) -> httpx.Client:
    team = None if role == "manager" else TEAM
    token = platform.token(subject, [role], team=team, audience="routing")
    return httpx.Client(
        base_url=platform.routing.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture
def lead(platform: Platform) -> Iterator[httpx.Client]:
    with _staff(platform, f"lead-{TEAM}", "lead") as client:
        yield client


@pytest.fixture
def manager(platform: Platform) -> Iterator[httpx.Client]:
    with _staff(platform, "mgr-links", "manager") as client:
        yield client


@pytest.fixture
def agent(platform: Platform) -> Iterator[httpx.Client]:
    with _staff(platform, agent_id(TEAM), "agent") as client:
        yield client


def _case_file(staff: httpx.Client, complaint_id: str) -> dict[str, Any] | None:
    response = staff.get(f"/v1/cases/{complaint_id}")
    if response.status_code == 404:  # routing has not consumed it yet
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _wait_case(staff: httpx.Client, complaint_id: str, what: str, ready: Any) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (c := _case_file(staff, complaint_id)) is not None and ready(c) and c,
        timeout_s=45,
        interval_s=0.3,
        what=f"{complaint_id}: {what}",
    )
    return found


def _routing_event_types(platform: Platform, complaint_id: str) -> list[type[Any]]:
    return [
        type(decode(record.key, record.value, list(record.headers)).data)
        for record in read_all(platform.bootstrap_servers, topics.ROUTING.name)
        if record.key == complaint_id.encode() and not header(record, POISON_HEADER)
    ]


def _clock_states(case_file: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {c["metric"]: (c["state"], c["outcome"]) for c in case_file["sla"]["clocks"]}


def test_a_lead_unlinks_an_automatic_duplicate_which_is_triaged_assigned_and_clocked(
    platform: Platform, lead: httpx.Client, manager: httpx.Client
) -> None:
    email = f"unlink.{uuid.uuid4().hex[:10]}@example.com"
    original = _post(platform, "web", _customer(email=email), REFUND)
    _wait_case(lead, original, "assigned", lambda c: c["status"] == "assigned")
    copy = _post(platform, "app", _customer(email=email, phone="+8613700004243"), REFUND)
    held = _wait_case(
        manager,
        copy,
        "linked",
        lambda c: (c["duplicates"]["duplicate_of"] or {}).get("complaint_id"),
    )
    assert (held["status"], held["team"], held["sla"]["clocks"]) == ("received", None, [])

    # The lead sees the held copy through its original, and unlinks it.
    response = lead.post(
        f"/v1/cases/{copy}/duplicate-of/unlink",
        json={"reason": "a second order: not the same refund"},
        headers={"If-Match": f'"{held["version"]}"'},
    )
    assert response.status_code == 200, response.text
    unlinked = response.json()
    assert (unlinked["status"], unlinked["team"]) == ("assigned", TEAM)
    assert unlinked["assignee"] == agent_id(TEAM)

    # sla-watch armed its clocks from complaint.triaged; routing's case file shows them.
    own = _wait_case(
        lead,
        copy,
        "its clocks",
        lambda c: (
            {m for m, (state, _) in _clock_states(c).items() if state == "running"}
            >= TRIAGE_METRICS
        ),
    )
    assert own["duplicates"]["duplicate_of"] is None
    assert own["duplicates"]["repeat_count"] == 1  # the former original, same category
    assert [a["action"] for a in own["actions"]][-3:] == [
        "duplicate_unlinked",
        "triaged",
        "assigned",
    ]
    standing = _case_file(lead, original)
    assert standing is not None
    assert standing["duplicates"]["copies"] == []
    assert standing["actions"][-1]["action"] == "duplicate_unlinked"
    events = _routing_event_types(platform, copy)
    assert events[:2] == [ComplaintDuplicateLinked, ComplaintDuplicateUnlinked], events
    assert ComplaintTriaged in events


def test_two_distinct_complaints_merged_by_hand(
    platform: Platform, agent: httpx.Client, manager: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:10]
    original = _post(platform, "web", _customer(email=f"merge.a.{tag}@example.com"), REFUND)
    copy = _post(platform, "email", _customer(email=f"merge.b.{tag}@example.com"), OTHER_REFUND)
    _wait_case(agent, original, "assigned", lambda c: c["status"] == "assigned")
    before = _wait_case(
        agent,
        copy,
        "assigned and clocked",
        lambda c: c["status"] == "assigned" and set(_clock_states(c)) >= TRIAGE_METRICS,
    )

    # Any agent of the team may merge (not only the assignee); If-Match as on every command.
    response = agent.post(
        f"/v1/cases/{copy}/duplicate-of",
        json={"original_id": original, "reason": "the same customer's account, written twice"},
        headers={"If-Match": f'"{before["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["close_reason"]) == ("closed", "duplicate")

    # sla-watch cancelled the copy's clocks on the events; the case files show the link.
    merged = _wait_case(
        manager,
        copy,
        "clocks cancelled",
        lambda c: all(state == "stopped" for state, _ in _clock_states(c).values()),
    )
    assert set(_clock_states(merged).values()) == {("stopped", "cancelled")}
    assert merged["duplicates"]["duplicate_of"]["complaint_id"] == original
    standing = _case_file(manager, original)
    assert standing is not None
    assert [c["complaint_id"] for c in standing["duplicates"]["copies"]] == [copy]
    assert standing["duplicates"]["copies"][0]["status"] == "closed"
    assert standing["actions"][-1]["action"] == "duplicate_received"
    assert standing["status"] == "assigned"

    # Closed by the merge: it cannot be unlinked.
    refused = agent.post(f"/v1/cases/{copy}/duplicate-of/unlink", json={"reason": "no"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["reason"] == "closed_by_merge"


def test_a_lead_reveals_the_contact_an_agent_may_not(
    platform: Platform, lead: httpx.Client, agent: httpx.Client
) -> None:
    contact = {
        "name": "Reveal Tester",
        "email": f"reveal.{uuid.uuid4().hex[:10]}@example.com",
        "phone": f"+86139{uuid.uuid4().int % 100_000_000:08d}",
        "preferred_channel": "sms",
    }
    complaint_id = _post(platform, "web", _customer(**contact), REFUND)
    _wait_case(lead, complaint_id, "assigned", lambda c: c["status"] == "assigned")

    refused = agent.post(
        f"/v1/cases/{complaint_id}/contact/reveal", json={"reason": "to call the customer"}
    )
    assert refused.status_code == 403, refused.text

    response = lead.post(
        f"/v1/cases/{complaint_id}/contact/reveal", json={"reason": "to call the customer back"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == contact

    case_file = _case_file(lead, complaint_id)
    assert case_file is not None
    revealed = [a for a in case_file["actions"] if a["action"] == "contact_revealed"]
    assert len(revealed) == 1  # the agent's refusal left nothing
    assert revealed[0]["actor"] == f"lead-{TEAM}"
    assert revealed[0]["detail"] == {
        "reason": "to call the customer back",
        "fields": ["name", "email", "phone"],
    }
    history = json.dumps(case_file["actions"], ensure_ascii=False)
    for value in (contact["name"], contact["email"], contact["phone"]):
        assert value not in history
