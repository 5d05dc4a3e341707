"""An escalation by hand through every service, real Kafka, PostgreSQL and SMTP: the lead of
the case's team asks routing for level 2 with a reason; sla-watch, which owns the level,
raises it and answers ``complaint.escalated`` (trigger manual, the lead as actor); routing's
case file shows the new level and why, and notify mails the team's manager. An agent may
not ask, a second request at the same level is refused, and another team's lead does not
see the case at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from harness import wait_for
from mail import ReceivedMail

from conftest import TEAMS, Platform, agent_id, manager_id, staff_email

REFUND = "我10月28日申请的退款到现在还没到账，退款延迟太久了，请尽快处理。"
REASON = "The customer (13812345678) has complained three times and threatens the regulator."
MASKED_REASON = "The customer (138****5678) has complained three times and threatens the regulator."


@contextmanager
def _staff(
    platform: Platform, subject: str, roles: list[str], team: str | None
) -> Iterator[httpx.Client]:
    token = platform.token(subject, roles, team=team, audience="routing")
    with httpx.Client(
        base_url=platform.routing.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def _post(platform: Platform) -> dict[str, Any]:
    email = f"manual-{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "channel": "web",
        "customer": {"external_ref": f"manual-{email}", "email": email, "language": "en"},
        "subject": "退款延迟",
        "description": REFUND,
    }
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    posted: dict[str, Any] = response.json()
    return posted


def _team_once_assigned(platform: Platform, complaint_id: str) -> str:
    def assigned() -> str | None:
        with platform.client() as client:
            view = client.get(f"/v1/complaints/{complaint_id}").json()
        return str(view["team"]) if view["status"] == "assigned" and view["team"] else None

    team: str = wait_for(assigned, what=f"{complaint_id} assigned")
    return team


def _case(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with _staff(platform, "mgr-manual-escalation", ["manager"], None) as client:
        response = client.get(f"/v1/cases/{complaint_id}")
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


def _escalate(
    platform: Platform,
    complaint_id: str,
    *,
    subject: str,
    roles: list[str],
    team: str,
    level: int = 2,
    version: int | None = None,
) -> httpx.Response:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    with _staff(platform, subject, roles, team) as client:
        return client.post(
            f"/v1/cases/{complaint_id}/escalate",
            json={"level": level, "reason": REASON},
            headers=headers,
        )


def _problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(f"/{kind}"), body
    return body


def _escalation_mails(platform: Platform, address: str, reference: str) -> list[ReceivedMail]:
    return [
        m
        for m in platform.mail.to(address)
        if reference in " ".join(m.subject.split()) and "Escalated" in m.subject
    ]


def test_a_lead_escalates_by_hand_and_the_manager_is_told(platform: Platform) -> None:
    posted = _post(platform)
    complaint_id, reference = posted["id"], posted["reference"]
    team = _team_once_assigned(platform, complaint_id)
    lead = f"lead-{team}"
    before = _case(platform, complaint_id)
    assert before["escalation_level"] == 0

    response = _escalate(
        platform,
        complaint_id,
        subject=lead,
        roles=["lead"],
        team=team,
        version=before["version"],
    )
    assert response.status_code == 202, response.text
    request = response.json()
    assert (request["level"], request["current_level"], request["actor"]) == (2, 0, lead)
    assert request["reason"] == MASKED_REASON

    # sla-watch raised the level and routing applied its complaint.escalated.
    case = wait_for(
        lambda: (c := _case(platform, complaint_id))["escalation_level"] == 2 and c,
        what="routing's case at level 2",
    )
    assert case["status"] == "assigned"  # the level is orthogonal to the state
    [asked] = [a for a in case["actions"] if a["action"] == "escalation_requested"]
    assert (asked["actor"], asked["event_id"]) == (lead, request["event_id"])
    assert asked["detail"] == {"level": 2, "current_level": 0, "reason": MASKED_REASON}
    [escalated] = [a for a in case["actions"] if a["action"] == "escalated"]
    assert escalated["actor"] == lead
    assert (escalated["detail"]["trigger"], escalated["detail"]["level"]) == ("manual", 2)
    assert (escalated["detail"]["previous_level"], escalated["detail"]["reason"]) == (
        0,
        MASKED_REASON,
    )

    manager = staff_email(manager_id(team))
    [mail] = wait_for(
        lambda: _escalation_mails(platform, manager, reference),
        what=f"the escalation mail to {manager}",
    )
    assert mail.recipients == (manager,)
    assert "level 2 (manager)" in mail.body
    assert "Trigger: manual escalation" in mail.body
    assert MASKED_REASON in " ".join(mail.body.split())
    assert "13812345678" not in mail.body

    # An agent may not ask, not even on a case of their own team.
    _problem(
        _escalate(platform, complaint_id, subject=agent_id(team), roles=["agent"], team=team),
        403,
        "forbidden",
    )
    # The same level again: the case already stands there.
    repeat = _problem(
        _escalate(platform, complaint_id, subject=lead, roles=["lead"], team=team),
        409,
        "escalation-not-higher",
    )
    assert (repeat["level"], repeat["current_level"]) == (2, 2)
    # Another team's lead does not see the case: answered like an unknown case.
    other = next(t for t in TEAMS if t != team)
    _problem(
        _escalate(platform, complaint_id, subject=f"lead-{other}", roles=["lead"], team=other),
        404,
        "not-found",
    )
    after = _case(platform, complaint_id)
    assert after["escalation_level"] == 2
    assert [a["action"] for a in after["actions"]].count("escalation_requested") == 1
    assert len(_escalation_mails(platform, manager, reference)) == 1
