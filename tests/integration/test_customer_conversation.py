"""The customer side of working the case (§3) through every service, real Kafka, real
PostgreSQL and a real SMTP server: the agent's first response, a reply and a question reach
the customer's mailbox and tracking view signed with the agent's display name (never the
user id), the customer's answer resumes the case; a message on a closed complaint reopens
it within the reopen window (with the lead's review task) and after it opens a new
complaint linked to the old one, both ways. The window lasts ``REOPEN_WINDOW_S`` here."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import httpx
from harness import intake_projection, lifecycle, wait_for

from conftest import REOPEN_WINDOW_S, Platform, agent_id

SURVEY_LINK = re.compile(r"https?://\S+/s/[\w.\-~%]+")  # the survey page's link
DISPLAY_NAME = "Li Na"
FIRST_RESPONSE = "We re-issued your refund today; call us on 13812345678 if it is late."
REPLY = "The bank confirmed the transfer: it arrives tomorrow."
QUESTION = "Please send us the refund slip number."


def _complaint(email: str, subject: str) -> dict[str, Any]:
    return {
        "channel": "email",
        "customer": {
            "external_ref": f"conv-{email}",
            "name": "Conversation Tester",
            "email": email,
            "language": "en",
            "preferred_channel": "email",
        },
        "subject": subject,
        "description": "My refund for the returned kettle is delayed.",
        "order_ref": f"ORD-{email.partition('@')[0]}",
    }


def _post(platform: Platform, body: dict[str, Any]) -> dict[str, Any]:
    with platform.client() as client:
        response = client.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _view(platform: Platform, complaint_id: str, token: str | None = None) -> dict[str, Any]:
    if token is None:
        with platform.client() as client:
            answer = client.get(f"/v1/complaints/{complaint_id}")
    else:
        answer = httpx.get(
            f"{platform.intake.url}/v1/complaints/{complaint_id}", params={"token": token}
        )
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def _wait_status(platform: Platform, complaint_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (v := _view(platform, complaint_id))["status"] == status and v,
        timeout_s=30,
        what=f"{complaint_id} to be {status}",
    )
    return found


def _write(platform: Platform, accepted: dict[str, Any], text: str) -> httpx.Response:
    return httpx.post(
        f"{platform.intake.url}/v1/complaints/{accepted['id']}/messages",
        params={"token": accepted["tracking_token"]},
        json={"text": text},
        timeout=10,
    )


def _mail(platform: Platform, email: str, subject: str) -> Any:
    return wait_for(
        lambda: [m for m in platform.mail.to(email) if m.subject == subject],
        timeout_s=30,
        what=f"'{subject}' to {email}",
    )


def _agent(platform: Platform, team: str) -> httpx.Client:
    return platform.staff_client("routing", agent_id(team), ["agent"])


def _case_file(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.staff_client("routing", "manager-conversation", ["manager"]) as manager:
        answer = manager.get(f"/v1/cases/{complaint_id}")
    assert answer.status_code == 200, answer.text
    case_file: dict[str, Any] = answer.json()
    return case_file


def _close(platform: Platform, accepted: dict[str, Any], email: str) -> dict[str, Any]:
    """Work a complaint to its closure: first response, resolution, a confirmed survey."""
    team = _wait_status(platform, accepted["id"], "assigned")["team"]
    with _agent(platform, team) as agent:
        assert agent.post(f"/v1/cases/{accepted['id']}/first-response", json={}).status_code == 200
        resolved = agent.post(
            f"/v1/cases/{accepted['id']}/resolve",
            json={
                "solution_summary": "Refund re-issued",
                "solution_type": "refund",
                "root_cause": "The refund batch job skipped vouchers",
            },
        )
        assert resolved.status_code == 200, resolved.text

    def survey_link() -> str | None:
        for mail in platform.mail.to(email):
            if match := SURVEY_LINK.search(mail.body):
                return match.group(0)
        return None

    link = wait_for(survey_link, timeout_s=30, what=f"a survey e-mail to {email}")
    api = link.replace("/s/", "/v1/surveys/", 1)  # the link's JSON API
    answer = httpx.post(api, json={"solved": True, "csat": 5, "comment": None}, timeout=10)
    assert answer.status_code == 200, answer.text
    return _wait_status(platform, accepted["id"], "closed")


def test_answers_and_questions_reach_the_customer_and_the_answer_resumes(
    platform: Platform,
) -> None:
    email = "conversation.answers@example.com"
    accepted = _post(platform, _complaint(email, "Refund delayed"))
    complaint_id, reference = accepted["id"], accepted["reference"]
    token = accepted["tracking_token"]
    team = _wait_status(platform, complaint_id, "assigned")["team"]
    agent = agent_id(team)
    with platform.staff_client("routing", "admin-conversation", ["admin"]) as admin:
        named = admin.put(
            f"/v1/admin/agents/{agent}",
            json={"team": team, "level": "senior", "capacity": 1000, "display_name": DISPLAY_NAME},
        )
    assert named.status_code == 200, named.text
    assert named.json()["display_name"] == DISPLAY_NAME

    with _agent(platform, team) as client:
        path = f"/v1/cases/{complaint_id}"
        first = client.post(f"{path}/first-response", json={"message": FIRST_RESPONSE})
        assert first.status_code == 200, first.text
        [answer] = _mail(platform, email, f"Our answer to your complaint {reference}")
        replied = client.post(f"{path}/replies", json={"message": REPLY})
        assert replied.status_code == 200, replied.text
        [reply] = _mail(platform, email, f"A reply about your complaint {reference}")
        asked = client.post(f"{path}/awaiting-customer", json={"reason": QUESTION})
        assert asked.status_code == 200, asked.text
        [question] = _mail(platform, email, f"We need information about your complaint {reference}")

    masked = FIRST_RESPONSE.replace("13812345678", "138****5678")
    assert f"{masked}\n\n{DISPLAY_NAME}\n" in answer.body
    assert f"{REPLY}\n\n{DISPLAY_NAME}\n" in reply.body
    assert f"{QUESTION}\n\n{DISPLAY_NAME}\n" in question.body
    for mail in (answer, reply, question):
        assert agent not in mail.body
        assert "13812345678" not in mail.body
        assert f"/t/{token}" in mail.body  # where to answer: the tracking page's link
        assert "?token=" not in mail.body

    # The customer's tracking view: the texts, the name and the time of each.
    steps = {
        h["type"].split(".")[-2]: h
        for h in _wait_status(platform, complaint_id, "awaiting_customer")["history"]
    }
    view = _view(platform, complaint_id, token)
    shown = {h["type"].split(".")[-2]: h for h in view["history"]}
    assert shown["first_response_sent"]["data"] == {"message": masked, "agent_name": DISPLAY_NAME}
    assert shown["agent_replied"]["data"] == {"message": REPLY, "agent_name": DISPLAY_NAME}
    assert shown["awaiting_customer"]["data"] == {"question": QUESTION, "agent_name": DISPLAY_NAME}
    assert shown["agent_replied"]["time"] == steps["agent_replied"]["time"]
    assert agent not in str(view["history"])

    # The customer's answer resumes the case and joins routing's case file.
    answered = _write(platform, accepted, "The slip number is RF-7781.")
    assert answered.status_code == 201, answered.text
    assert (answered.json()["outcome"], answered.json()["reopens"]) == ("message_added", False)
    resumed = _wait_status(platform, complaint_id, "in_progress")
    assert lifecycle(resumed)[-3:] == ["awaiting_customer", "customer_message_received", "resumed"]
    conversation = wait_for(
        lambda: (c := _case_file(platform, complaint_id)["conversation"]) and len(c) == 4 and c,
        what="the customer's answer in the case file",
    )
    assert [m["kind"] for m in conversation] == [
        "first_response",
        "reply",
        "question",
        "customer_message",
    ]
    assert conversation[-1]["text"] == "The slip number is RF-7781."
    # Each message went out once.
    subjects = [m.subject for m in platform.mail.to(email)]
    assert len(subjects) == len(set(subjects)) == 4, subjects  # and the acknowledgement


def test_a_closed_complaint_reopens_within_the_window_and_is_followed_up_after_it(
    platform: Platform,
) -> None:
    email_in, email_after = "conversation.within@example.com", "conversation.after@example.com"
    within = _post(platform, _complaint(email_in, "Kettle refund"))
    after = _post(platform, _complaint(email_after, "Toaster refund"))
    closed_after = _close(platform, after, email_after)
    closed_within = _close(platform, within, email_in)
    owner, priority = closed_within["assignee"], closed_within["priority"]

    # Within the window: the message joins the closed complaint, which reopens.
    answer = _write(platform, within, "The refund bounced back.")
    assert answer.status_code == 201, answer.text
    assert (answer.json()["outcome"], answer.json()["reopens"]) == ("message_added", True)
    reopened = wait_for(
        lambda: (
            (v := _view(platform, within["id"]))["status"] == "assigned"
            and "reopened" in lifecycle(v)
            and v
        ),
        timeout_s=30,
        what="the reopened complaint assigned to its owner again",
    )
    assert reopened["assignee"] == owner
    assert (priority, reopened["priority"]) == ("P3", "P2")
    steps = lifecycle(reopened)
    assert steps[steps.index("closed") :] == [
        "closed",
        "customer_message_received",
        "reopened",
        "recategorized",
        "assigned",
    ], steps
    # The reopen's reason and message are internal data: the view (the customer's, also
    # for a front end's key) shows the step only; intake's projection holds the data.
    projected = intake_projection(platform.database_urls["intake"], within["id"])
    reopen = next(h for h in projected["history"] if h["type"].endswith(".reopened.v1"))
    assert reopen["data"]["reason"] == "customer_message"
    assert reopen["data"]["message_id"] == answer.json()["message_id"]
    tasks = wait_for(
        lambda: _case_file(platform, within["id"])["tasks"], what="the lead's review task"
    )
    assert [(t["kind"], t["reason"], t["status"]) for t in tasks] == [
        ("review_reopen", "customer_message", "open")
    ]

    # After the window: a new complaint, linked to the old one, which stays closed.
    closed_at = next(
        datetime.fromisoformat(h["data"]["closed_at"])
        for h in intake_projection(platform.database_urls["intake"], after["id"])["history"]
        if h["type"].endswith(".closed.v1")
    )
    time.sleep(max(0.0, closed_at.timestamp() + REOPEN_WINDOW_S + 1 - time.time()))
    opened = _write(platform, after, "It broke again, the same fault.")
    assert opened.status_code == 201, opened.text
    new = opened.json()
    assert new["outcome"] == "new_complaint"
    assert opened.headers["location"] == f"/v1/complaints/{new['id']}"
    assert (new["related_complaint_id"], new["related_reference"]) == (
        after["id"],
        after["reference"],
    )
    _mail(platform, email_after, f"We have received your complaint ({new['reference']})")
    follow_up = _wait_status(platform, new["id"], "assigned")
    assert follow_up["subject"] == "Re: Toaster refund"
    assert follow_up["related_complaint"]["id"] == after["id"]
    assert follow_up["customer"]["customer_ref"] == closed_after["customer"]["customer_ref"]
    old_view = _view(platform, after["id"], after["tracking_token"])
    assert old_view["status"] == "closed"
    assert [f["reference"] for f in old_view["follow_ups"]] == [new["reference"]]
    assert (
        _view(platform, new["id"], new["tracking_token"])["related_complaint"]["reference"]
        == (after["reference"])
    )
    # Routing's case files link them both ways too.
    new_file = _case_file(platform, new["id"])
    assert new_file["related_complaint_id"] == after["id"]
    assert new_file["related_complaint"]["reference"] == after["reference"]
    assert new_file["description"] == "It broke again, the same fault."
    old_file = _case_file(platform, after["id"])
    assert [c["complaint_id"] for c in old_file["follow_ups"]] == [new["id"]]
    assert old_file["status"] == "closed"
