"""The customer's side after a resolution (§3, §7) through every service, real Kafka, real
PostgreSQL and a real SMTP server: an unanswered survey gets exactly one reminder mail
``REMINDER_AFTER_S`` after the request, whose link still takes the answer; a customer no
channel reaches gets no reminder and their team lead a ``customer_unreachable`` task
(Decision: unreachable customers); a P2 resolution opens the 回访 follow-up call for the
owner, which its lead sees and the owner completes with outcome ``reached`` and a CSAT."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from harness import wait_for

from conftest import REMINDER_AFTER_S, Platform, agent_id

SURVEY_LINK = re.compile(r"https?://\S+/s/[\w.\-~%]+")  # the survey page's link
DESCRIPTION = "My refund for the returned kettle is delayed."


def _post(platform: Platform, customer: dict[str, Any], subject: str) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {"name": "Reminder Tester", "language": "en", **customer},
        "subject": subject,
        "description": DESCRIPTION,
        "order_ref": f"ORD-{customer['external_ref']}",
    }
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _view(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.client() as client:
        view: dict[str, Any] = client.get(f"/v1/complaints/{complaint_id}").json()
    return view


def _wait_status(platform: Platform, complaint_id: str, status: str) -> dict[str, Any]:
    view: dict[str, Any] = wait_for(
        lambda: (v := _view(platform, complaint_id))["status"] == status and v,
        timeout_s=30,
        what=f"{complaint_id} to be {status}",
    )
    return view


def _staff(platform: Platform, subject: str, role: str, team: str | None = None) -> httpx.Client:
    token = platform.token(subject, [role], team=team, audience="routing")
    return httpx.Client(
        base_url=platform.routing.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _resolve(platform: Platform, complaint_id: str) -> dict[str, Any]:
    """First response and resolution by the assigned agent; the case as assigned."""
    view = _wait_status(platform, complaint_id, "assigned")
    with _staff(platform, agent_id(view["team"]), "agent") as agent:
        assert agent.post(f"/v1/cases/{complaint_id}/first-response", json={}).status_code == 200
        resolved = agent.post(
            f"/v1/cases/{complaint_id}/resolve",
            json={
                "solution_summary": "Refund re-issued and confirmed by the bank",
                "solution_type": "refund",
                "root_cause": "The refund batch job skipped orders paid with vouchers",
            },
        )
        assert resolved.status_code == 200, resolved.text
    return view


def _actions(platform: Platform, complaint_id: str, action: str) -> list[dict[str, Any]]:
    with _staff(platform, "manager-reminders", "manager") as manager:
        case_file = manager.get(f"/v1/cases/{complaint_id}")
    assert case_file.status_code == 200, case_file.text
    return [a for a in case_file.json()["actions"] if a["action"] == action]


def _survey_mails(platform: Platform, email: str) -> list[Any]:
    return [m for m in platform.mail.to(email) if SURVEY_LINK.search(m.body)]


def test_one_reminder_after_the_delay_and_the_unreachable_customer_s_lead_is_told(
    platform: Platform,
) -> None:
    email = "reminder.once@example.com"
    reachable = _post(platform, {"external_ref": "rem-email", "email": email}, "Refund delayed")
    unreachable = _post(
        platform,
        {"external_ref": "rem-phone", "phone": "+8613912345678", "preferred_channel": "sms"},
        "Refund delayed, phone only",
    )
    _resolve(platform, reachable["id"])
    team = _resolve(platform, unreachable["id"])["team"]

    first = wait_for(lambda: _survey_mails(platform, email), what="the survey e-mail")[0]
    assert "[Reminder]" not in first.subject
    requested_at = time.monotonic()

    # The phone-only customer: notify finds no channel, routing gives the lead a task.
    with _staff(platform, f"lead-{team}", "lead", team=team) as lead:

        def unreachable_task() -> dict[str, Any] | None:
            answer = lead.get("/v1/tasks", params={"kind": "customer_unreachable"})
            assert answer.status_code == 200, answer.text
            found = [t for t in answer.json()["items"] if t["complaint_id"] == unreachable["id"]]
            return found[0] if found else None

        task = wait_for(unreachable_task, timeout_s=30, what="the lead's unreachable task")
    assert (task["status"], task["reason"], task["team"]) == ("open", "no_channel", team)

    # One reminder, after the delay, with the request's own link.
    def reminders() -> list[Any]:
        # (in the subject, not at its start: the long header may be folded before it)
        return [m for m in _survey_mails(platform, email) if "[Reminder]" in m.subject]

    [reminder] = wait_for(reminders, timeout_s=REMINDER_AFTER_S + 40, what="the reminder")
    assert reminder.received_at - first.received_at >= REMINDER_AFTER_S - 5  # not before
    wait_for(
        lambda: _actions(platform, reachable["id"], "confirmation_reminded"),
        what="routing's record of the reminder",
    )
    time.sleep(5)  # ten rounds of the loop later: still one
    assert len(reminders()) == 1
    assert len(_actions(platform, reachable["id"], "confirmation_reminded")) == 1
    # By now the phone-only customer's reminder was due too: it was never sent.
    assert time.monotonic() - requested_at >= REMINDER_AFTER_S
    assert _actions(platform, unreachable["id"], "confirmation_reminded") == []

    link = SURVEY_LINK.search(reminder.body)
    assert link is not None
    api = link.group(0).replace("/s/", "/v1/surveys/", 1)  # the link's JSON API
    answer = httpx.post(api, json={"solved": True, "csat": 4}, timeout=10)
    assert answer.status_code == 200, answer.text
    _wait_status(platform, reachable["id"], "closed")


def test_a_p2_resolution_opens_the_follow_up_call_completed_with_a_csat(
    platform: Platform,
) -> None:
    accepted = _post(
        platform,
        {"external_ref": "rem-gold", "email": "follow.up@example.com", "tier": "gold"},
        "Refund delayed for a gold customer",
    )
    view = _resolve(platform, accepted["id"])
    assert view["priority"] == "P2", view
    team, owner = view["team"], view["assignee"]
    assert owner == agent_id(team)

    with _staff(platform, f"lead-{team}", "lead", team=team) as lead:

        def follow_up() -> dict[str, Any] | None:
            answer = lead.get("/v1/tasks", params={"kind": "follow_up_call", "status": "open"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["overdue_count"] >= 0
            found = [t for t in answer.json()["items"] if t["complaint_id"] == accepted["id"]]
            return found[0] if found else None

        task = wait_for(follow_up, timeout_s=30, what="the follow-up call task")
    assert (task["assignee"], task["overdue"], task["reason"]) == (owner, False, "resolved")
    assert task["available_from"]
    assert task["due_at"] > task["available_from"]

    with _staff(platform, owner, "agent", team=team) as agent:
        mine = agent.get("/v1/tasks", params={"assignee": "me", "kind": "follow_up_call"})
        assert task["id"] in {t["id"] for t in mine.json()["items"]}
        wrong = agent.post(f"/v1/tasks/{task['id']}/complete", json={"outcome": "coached"})
        assert wrong.status_code == 422, wrong.text
        done = agent.post(
            f"/v1/tasks/{task['id']}/complete",
            json={"outcome": "reached", "csat": 5, "note": "Customer happy with the refund"},
        )
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["outcome"], done.json()["csat"]) == (
            "done",
            "reached",
            5,
        )
    [completed] = _actions(platform, accepted["id"], "task_completed")
    assert (completed["detail"]["outcome"], completed["detail"]["csat"]) == ("reached", 5)
