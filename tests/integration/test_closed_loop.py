"""The closed loop of requirements §3 through every service, real Kafka, real PostgreSQL
and a real SMTP server: receive → triage → assign → respond → resolve → survey →
confirmed → closed, and a reopen by a low CSAT that goes back to the owner, raised."""

from __future__ import annotations

import re
from typing import Any

import httpx
from harness import intake_projection, lifecycle, wait_for

from conftest import Platform, agent_id, staff_email

SURVEY_LINK = re.compile(r"https?://\S+/s/[\w.\-~%]+")  # the survey page's link


def _post(platform: Platform, body: dict[str, Any]) -> dict[str, Any]:
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _view(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.client() as client:
        view: dict[str, Any] = client.get(f"/v1/complaints/{complaint_id}").json()
    return view


def _wait_status(platform: Platform, complaint_id: str, status: str, timeout_s: float = 30) -> Any:
    return wait_for(
        lambda: (v := _view(platform, complaint_id))["status"] == status and v,
        timeout_s=timeout_s,
        what=f"{complaint_id} to be {status}",
    )


def _complaint(email: str, subject: str, description: str) -> dict[str, Any]:
    return {
        "channel": "email",
        "customer": {
            "external_ref": f"loop-{email}",
            "name": "Loop Tester",
            "email": email,
            "language": "en",
            "tier": "standard",
            "preferred_channel": "email",
        },
        "subject": subject,
        "description": description,
        "order_ref": "ORD-20261128-4242",
    }


def _agent(platform: Platform, team: str) -> httpx.Client:
    return platform.staff_client("routing", agent_id(team), ["agent"])


def _survey_link(platform: Platform, email: str) -> str:
    def find() -> str | None:
        for mail in platform.mail.to(email):
            if match := SURVEY_LINK.search(mail.body):
                # The JSON API of the link's token (the link itself opens the page).
                return match.group(0).replace("/s/", "/v1/surveys/", 1)
        return None

    return wait_for(find, timeout_s=30, what=f"a survey e-mail to {email}")


def _resolve(agent: httpx.Client, complaint_id: str) -> None:
    guard = agent.post(f"/v1/cases/{complaint_id}/resolve", json={"solution_type": "refund"})
    assert guard.status_code == 422, guard.text
    assert guard.headers["content-type"] == "application/problem+json"
    missing = {error["field"] for error in guard.json()["errors"]}
    assert {"solution_summary", "root_cause"} <= missing, guard.json()
    resolved = agent.post(
        f"/v1/cases/{complaint_id}/resolve",
        json={
            "solution_summary": "Refund re-issued and confirmed by the bank",
            "solution_type": "refund",
            "root_cause": "The refund batch job skipped orders paid with vouchers",
            "preventive_measure": "Batch job fixed and monitored",
        },
    )
    assert resolved.status_code == 200, resolved.text


def test_complaint_goes_round_the_closed_loop(platform: Platform) -> None:
    email = "loop.confirmed@example.com"
    accepted = _post(
        platform,
        _complaint(email, "Refund not received", "My refund for the returned kettle is delayed."),
    )
    complaint_id = accepted["id"]
    view = _wait_status(platform, complaint_id, "assigned")
    team = view["team"]
    assert view["assignee"] == agent_id(team)

    acknowledgement = wait_for(lambda: platform.mail.to(email), what="the acknowledgement")
    assert accepted["reference"] in acknowledgement[0].subject + acknowledgement[0].body
    wait_for(lambda: platform.mail.to(staff_email(agent_id(team))), what="the assignment notice")

    with _agent(platform, team) as agent:
        response = agent.post(f"/v1/cases/{complaint_id}/first-response", json={})
        assert response.status_code == 200, response.text
        _wait_status(platform, complaint_id, "in_progress")
        asked = agent.post(
            f"/v1/cases/{complaint_id}/awaiting-customer",
            json={"reason": "Please send the bank statement"},
        )
        assert asked.status_code == 200, asked.text
        _wait_status(platform, complaint_id, "awaiting_customer")
        # The customer answers with their tracking token: the case resumes by itself.
        message = httpx.post(
            f"{platform.intake.url}/v1/complaints/{complaint_id}/messages",
            params={"token": accepted["tracking_token"]},
            json={"text": "Statement attached, my phone is 13812345678"},
            timeout=10,
        )
        assert message.status_code == 201, message.text
        _wait_status(platform, complaint_id, "in_progress")
        _resolve(agent, complaint_id)

    link = _survey_link(platform, email)
    survey = httpx.get(link, timeout=10)
    assert survey.status_code == 200, survey.text
    answer = httpx.post(link, json={"solved": True, "csat": 5, "comment": "Quick, thanks"})
    assert answer.status_code == 200, answer.text
    again = httpx.post(link, json={"solved": True, "csat": 5, "comment": None})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

    closed = _wait_status(platform, complaint_id, "closed")
    assert lifecycle(closed) == [
        "received",
        "triaged",
        "assigned",
        "first_response_sent",
        "awaiting_customer",
        "customer_message_received",
        "resumed",
        "resolved",
        "confirmation_requested",
        "confirmed",
        "closed",
    ], closed["history"]
    times = [h["time"] for h in closed["history"]]
    assert times == sorted(times)
    # SLA clocks are internal steps, which the view (the customer's, also for a front end's
    # key) omits: intake's projection has them.
    projected = intake_projection(platform.database_urls["intake"], complaint_id)["history"]
    clocks = [h["type"].split(".")[-2] for h in projected if ".sla." in h["type"]]
    assert {"clock_started", "clock_paused", "clock_resumed", "clock_stopped"} <= set(clocks)
    mails = [m.subject for m in platform.mail.to(email)]
    assert len(mails) == len(set(mails)) >= 3, mails  # acknowledgement, resolution, survey


def test_low_csat_reopens_to_the_same_owner_with_priority_raised(platform: Platform) -> None:
    email = "loop.reopened@example.com"
    accepted = _post(
        platform,
        _complaint(email, "Refund still missing", "The refund for my order is delayed again."),
    )
    complaint_id = accepted["id"]
    view = _wait_status(platform, complaint_id, "assigned")
    team, owner, priority = view["team"], view["assignee"], view["priority"]
    assert priority == "P3", view
    with _agent(platform, team) as agent:
        assert agent.post(f"/v1/cases/{complaint_id}/first-response", json={}).status_code == 200
        _resolve(agent, complaint_id)
    link = _survey_link(platform, email)
    answer = httpx.post(link, json={"solved": True, "csat": 2, "comment": "Took too long"})
    assert answer.status_code == 200, answer.text

    reassigned = wait_for(
        lambda: (
            (v := _view(platform, complaint_id))["status"] == "assigned"
            and "reopened" in lifecycle(v)
            and v
        ),
        timeout_s=30,
        what="the reopened complaint to be assigned again",
    )
    assert reassigned["assignee"] == owner
    assert reassigned["priority"] == "P2"
    steps = lifecycle(reassigned)
    assert steps[steps.index("reopened") :] == ["reopened", "recategorized", "assigned"], steps
