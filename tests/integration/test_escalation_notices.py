"""Escalations and duplicate notices through real Kafka and PostgreSQL: a
``complaint.escalated`` on the sla topic sets the level in routing's case and intake's
projection and mails the person at that level (2: the team's manager, 3: every member of the
senior group); a ``complaint.duplicate_linked`` tells the customer which reference stands.
No view of intake shows the level or the other complaint's id (a front end's key gets the
customer's view): the test reads intake's projection in its database."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import encode
from complaint_contracts.events import ComplaintDuplicateLinked, ComplaintEscalated
from harness import intake_projection, wait_for
from kafka_tools import produce
from mail import ReceivedMail

from conftest import SENIOR_GROUP, Platform, manager_id, staff_email

REFUND = "我10月28日申请的退款到现在还没到账，退款延迟太久了，请尽快处理。"
DELIVERY = "快递显示已签收，但我根本没有收到包裹，快递员也联系不上。"


def _post(platform: Platform, *, email: str, subject: str, description: str) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {"external_ref": f"esc-{email}", "email": email, "language": "en"},
        "subject": subject,
        "description": description,
    }
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    posted: dict[str, Any] = response.json()
    return posted


def _intake_view(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.client() as client:
        view: dict[str, Any] = client.get(f"/v1/complaints/{complaint_id}").json()
    return view


def _projected(platform: Platform, complaint_id: str) -> dict[str, Any]:
    return intake_projection(platform.database_urls["intake"], complaint_id)


def _customer_view(platform: Platform, posted: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=platform.intake.url, timeout=30) as anonymous:
        response = anonymous.get(
            f"/v1/complaints/{posted['id']}", headers={"X-Tracking-Token": posted["tracking_token"]}
        )
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _case(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.staff_client("routing", "mgr-escalations", ["manager"]) as client:
        response = client.get(f"/v1/cases/{complaint_id}")
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def _publish(platform: Platform, data: EventData, *, topic: topics.Topic, subject: str) -> str:
    event_id, record = encode(data, topic=topic.name, source=topic.producer, subject=subject)
    produce(
        platform.bootstrap_servers, topic.name, [(record.key, record.value, list(record.headers))]
    )
    return event_id


def _assigned(platform: Platform, complaint_id: str) -> dict[str, Any]:
    return wait_for(
        lambda: (v := _intake_view(platform, complaint_id))["status"] == "assigned" and v,
        what=f"{complaint_id} assigned",
    )


def _mails(platform: Platform, address: str, reference: str) -> list[ReceivedMail]:
    return [
        m
        for m in platform.mail.to(address)
        if reference in " ".join(m.subject.split()) and "Escalated" in m.subject
    ]


def _escalate(
    platform: Platform, complaint_id: str, *, level: int, previous: int, trigger: str
) -> str:
    escalated = ComplaintEscalated.model_validate(
        {
            "complaint_id": complaint_id,
            "level": level,
            "previous_level": previous,
            "trigger": trigger,
            "reason": f"{trigger} of the resolution clock",
            "clock_id": f"{complaint_id}:resolution",
            "metric": "resolution",
            "actor": "sla-watch",
        }
    )
    return _publish(platform, escalated, topic=topics.SLA, subject=complaint_id)


def test_escalations_reach_routing_intake_and_the_people_at_each_level(
    platform: Platform,
) -> None:
    posted = _post(
        platform,
        email=f"esc-{uuid.uuid4().hex[:8]}@example.com",
        subject="退款延迟",
        description=REFUND,
    )
    complaint_id, reference = posted["id"], posted["reference"]
    team = _assigned(platform, complaint_id)["team"]
    assert team
    assert _case(platform, complaint_id)["escalation_level"] == 0

    # Level 2: the team's manager.
    event_id = _escalate(platform, complaint_id, level=2, previous=0, trigger="resolution_breach")
    case = wait_for(
        lambda: (c := _case(platform, complaint_id))["escalation_level"] == 2 and c,
        what="routing's case at level 2",
    )
    [action] = [a for a in case["actions"] if a["event_id"] == event_id]
    assert (action["actor"], action["action"]) == ("sla-watch", "escalated")
    assert action["detail"]["trigger"] == "resolution_breach"
    assert action["detail"]["reason"] == "resolution_breach of the resolution clock"
    assert case["status"] == "assigned"  # the level is orthogonal to the state

    projected = wait_for(
        lambda: (p := _projected(platform, complaint_id))["escalation_level"] == 2 and p,
        what="intake's projection at level 2",
    )
    [step] = [h for h in projected["history"] if h["event_id"] == event_id]
    assert step["type"] == ComplaintEscalated.ce_type()
    assert step["data"]["level"] == 2
    for view in (_customer_view(platform, posted), _intake_view(platform, complaint_id)):
        assert "escalation_level" not in view
        assert event_id not in {h["event_id"] for h in view["history"]}

    manager = staff_email(manager_id(team))
    [mail] = wait_for(
        lambda: _mails(platform, manager, reference), what=f"the escalation mail to {manager}"
    )
    assert mail.recipients == (manager,)
    assert "level 2 (manager)" in mail.body
    assert "Trigger: resolution breach" in mail.body
    assert f"/v1/cases/{complaint_id}" in mail.body
    assert not [m for m in platform.mail.to(staff_email(f"lead-{team}")) if reference in m.subject]

    # Level 3: every member of the senior escalation group, once each.
    _escalate(platform, complaint_id, level=3, previous=2, trigger="repeated_breach")
    wait_for(
        lambda: _case(platform, complaint_id)["escalation_level"] == 3,
        what="routing's case at level 3",
    )
    wait_for(
        lambda: _projected(platform, complaint_id)["escalation_level"] == 3,
        what="intake's projection at level 3",
    )
    members = [staff_email(member) for member in SENIOR_GROUP]
    wait_for(
        lambda: all(_mails(platform, member, reference) for member in members),
        what="the escalation mail to each member of the senior group",
    )
    time.sleep(1.5)  # a second copy to anyone would arrive by now
    for member in members:
        [mail] = _mails(platform, member, reference)
        assert "senior escalation group" in mail.subject
        assert "Trigger: second breach" in mail.body
    assert len(_mails(platform, manager, reference)) == 1


def test_a_duplicate_tells_the_customer_which_reference_stands(platform: Platform) -> None:
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    # Different texts: routing itself does not link them; the test reports the link.
    original = _post(platform, email=email, subject="退款延迟", description=REFUND)
    duplicate = _post(platform, email=email, subject="包裹未收到", description=DELIVERY)
    _assigned(platform, original["id"])
    _assigned(platform, duplicate["id"])

    linked = ComplaintDuplicateLinked(
        complaint_id=duplicate["id"],
        duplicate_of=original["id"],
        matched_on=("same_email",),
        actor="routing",
    )
    _publish(platform, linked, topic=topics.ROUTING, subject=duplicate["id"])

    projected = wait_for(
        lambda: (p := _projected(platform, duplicate["id"]))["duplicate_of"] and p,
        what="intake's projection of the duplicate",
    )
    assert (projected["duplicate_of"], projected["duplicate_of_reference"]) == (
        original["id"],
        original["reference"],
    )
    customer = _customer_view(platform, duplicate)
    assert "duplicate_of" not in customer
    assert customer["duplicate_of_reference"] == original["reference"]
    [step] = [h for h in customer["history"] if h["type"] == ComplaintDuplicateLinked.ce_type()]
    assert step["data"] == {"duplicate_of_reference": original["reference"]}

    def notices() -> list[ReceivedMail]:
        return [m for m in platform.mail.to(email) if "handled under" in m.subject]

    [mail] = wait_for(notices, what="the duplicate notice to the customer")
    subject = " ".join(mail.subject.split())
    assert subject == (
        f"Your complaint {duplicate['reference']} is handled under {original['reference']}"
    )
    assert f"Please quote {original['reference']}" in mail.body
    time.sleep(1.0)
    assert len(notices()) == 1
