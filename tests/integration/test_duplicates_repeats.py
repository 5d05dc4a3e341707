"""§4 across channels through real Kafka and PostgreSQL: the same customer posts the same
problem on the web and in the app minutes apart (the app copy is linked, not a second
case), then two more complaints of the same category make the last one a repeat, raised
one level with the rule recorded."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from complaint_contracts import topics
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import ComplaintDuplicateLinked, ComplaintTriaged
from harness import wait_for
from intake.cli import create_api_key
from kafka_tools import POISON_HEADER, header, read_all

from conftest import Platform

FIRST = "我10月28日申请的退款到现在还没到账，请帮忙查一下。"
SECOND = "上个月退货的退款还没有退回到我的银行卡。"
THIRD = "The refund for my cancelled order is still not in my account."


def _channel_client(platform: Platform, channel: str) -> httpx.Client:
    # Front ends authenticate with their own channel's key (§10).
    key = asyncio.run(
        create_api_key(
            database_url=platform.database_urls["intake"],
            label=f"duplicates-{channel}",
            channels=[channel],
        )
    )
    return httpx.Client(base_url=platform.intake.url, headers={"X-API-Key": key}, timeout=30)


def _post(client: httpx.Client, channel: str, customer: dict[str, Any], text: str) -> str:
    body = {
        "channel": channel,
        "customer": {**customer, "language": "zh-CN"},
        "subject": "退款问题",
        "description": text,
    }
    response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    complaint_id: str = response.json()["id"]
    return complaint_id


def _routing_events(platform: Platform, complaint_id: str) -> list[Envelope]:
    return [
        envelope
        for record in read_all(platform.bootstrap_servers, topics.ROUTING.name)
        if record.key == complaint_id.encode() and not header(record, POISON_HEADER)
        for envelope in [decode(record.key, record.value, list(record.headers))]
    ]


def _event(platform: Platform, complaint_id: str, kind: type[Any]) -> Any:
    def probe() -> Any:
        found = [e.data for e in _routing_events(platform, complaint_id)]
        return next((d for d in found if isinstance(d, kind)), None)

    return wait_for(probe, timeout_s=45, interval_s=0.5, what=f"{kind.__name__} of {complaint_id}")


def _view(client: httpx.Client, complaint_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/complaints/{complaint_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_copy_on_another_channel_is_linked_and_a_third_complaint_is_a_repeat(
    platform: Platform,
) -> None:
    email = f"dup.{uuid.uuid4().hex[:10]}@example.com"
    web, app = _channel_client(platform, "web"), _channel_client(platform, "app")
    # Each front end reads its own complaints: the web's key reads the first one.
    with web, app:
        first = _post(web, "web", {"email": email}, FIRST)
        assigned = wait_for(
            lambda: (v := _view(web, first))["status"] == "assigned" and v,
            timeout_s=45,
            what="the first complaint to be assigned",
        )
        # Minutes later, in the app: the same address plus a phone number, the same text.
        copy = _post(app, "app", {"email": email, "phone": "+86 137 0000 4242"}, FIRST)
        linked = _event(platform, copy, ComplaintDuplicateLinked)
        assert linked.duplicate_of == first
        assert set(linked.matched_on) == {"same_email", "similar_text"}
        # Linked and nothing else in the same transaction: no triage, no assignment.
        copy_events = [type(e.data).__name__ for e in _routing_events(platform, copy)]
        assert copy_events == ["ComplaintDuplicateLinked"], copy_events
        with platform.staff_client("routing", "mgr-dup", ["manager"]) as staff:
            case = staff.get(f"/v1/cases/{copy}").json()
        assert (case["status"], case["assignee"], case["team"]) == ("received", None, None)
        again = _view(web, first)
        keep = ("status", "reference", "category", "priority", "team", "assignee")
        assert {k: again[k] for k in keep} == {k: assigned[k] for k in keep}

        # Two more of the same customer and category, each its own problem: the last one is
        # a repeat (two earlier complaints; the copy is the first one, not another).
        second = _post(web, "web", {"email": email}, SECOND)
        second_triage = _event(platform, second, ComplaintTriaged)
        third = _post(app, "app", {"email": email, "phone": "+86 137 0000 4242"}, THIRD)
        third_triage = _event(platform, third, ComplaintTriaged)

    assert second_triage.category == third_triage.category == assigned["category"]
    assert (second_triage.repeat_count, second_triage.priority) == (1, "P3")
    assert (third_triage.repeat_count, third_triage.priority) == (2, "P2")
    rules = [r.rule for r in third_triage.rules_fired]
    assert "priority.raise.repeat" in rules
    assert "priority.raise.applied" in rules
