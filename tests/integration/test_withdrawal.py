"""The customer withdraws their complaint (§3, Decision: withdrawal) through every service,
real Kafka, real PostgreSQL and a real SMTP server: intake shows it closed at once and
announces it, routing closes the case (reason ``withdrawn``, the customer as the actor, the
reason in its history), sla-watch stops the clocks, notify tells the assignee and confirms
to the customer; a message or a second withdrawal afterwards is refused, and so is bad
input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from harness import wait_for

from conftest import Platform, agent_id, staff_email

REASON = "The parcel turned up today; ring 13812345678 if you need anything."
MASKED = "The parcel turned up today; ring 138****5678 if you need anything."


def _complaint(email: str) -> dict[str, Any]:
    return {
        "channel": "email",
        "customer": {
            "external_ref": f"withdraw-{email}",
            "name": "Withdrawal Tester",
            "email": email,
            "language": "en",
            "preferred_channel": "email",
        },
        "subject": "Parcel not delivered",
        "description": "My parcel was marked delivered but never arrived.",
    }


def _post(platform: Platform, email: str) -> dict[str, Any]:
    with platform.client() as client:
        response = client.post("/v1/complaints", json=_complaint(email))
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _view(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.client() as client:
        answer = client.get(f"/v1/complaints/{complaint_id}")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def _as_customer(
    platform: Platform, accepted: dict[str, Any], what: str, body: dict[str, Any]
) -> httpx.Response:
    return httpx.post(
        f"{platform.intake.url}/v1/complaints/{accepted['id']}/{what}",
        params={"token": accepted["tracking_token"]},
        json=body,
        timeout=10,
    )


def _case_file(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.staff_client("routing", "manager-withdrawal", ["manager"]) as manager:
        answer = manager.get(f"/v1/cases/{complaint_id}")
    assert answer.status_code == 200, answer.text
    case_file: dict[str, Any] = answer.json()
    return case_file


def _clocks(platform: Platform, complaint_id: str) -> list[dict[str, Any]]:
    with platform.staff_client("sla-watch", "manager-withdrawal", ["manager"]) as manager:
        answer = manager.get(f"/v1/complaints/{complaint_id}/clocks")
    if answer.status_code == 404:
        return []  # not armed yet
    assert answer.status_code == 200, answer.text
    clocks: list[dict[str, Any]] = answer.json()["clocks"]
    return clocks


def _mail(platform: Platform, address: str, subject: str) -> Any:
    return wait_for(
        lambda: [m for m in platform.mail.to(address) if m.subject == subject],
        timeout_s=30,
        what=f"'{subject}' to {address}",
    )


def test_the_customer_withdraws_and_every_service_follows(platform: Platform) -> None:
    email = "withdrawal.customer@example.com"
    accepted = _post(platform, email)
    complaint_id, reference = accepted["id"], accepted["reference"]
    assigned = wait_for(
        lambda: (v := _view(platform, complaint_id))["status"] == "assigned" and v,
        what="the complaint assigned",
    )
    agent = agent_id(assigned["team"])
    assert assigned["assignee"] == agent
    running = wait_for(
        lambda: [c for c in _clocks(platform, complaint_id) if c["state"] == "running"],
        what="the SLA clocks running",
    )

    answer = _as_customer(platform, accepted, "withdraw", {"reason": REASON})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["close_reason"], body["reason"]) == ("closed", "withdrawn", MASKED)
    # The customer sees it closed at once, before routing has heard of it.
    view = _view(platform, complaint_id)
    assert (view["status"], view["close_reason"]) == ("closed", "withdrawn")

    # Routing closes the case: reason withdrawn, the customer as the actor, the reason kept.
    case_file = wait_for(
        lambda: (f := _case_file(platform, complaint_id))["status"] == "closed" and f,
        what="routing's case closed",
    )
    assert case_file["close_reason"] == "withdrawn"
    assert case_file["closed_at"]
    assert (case_file["solution_summary"], case_file["root_cause"]) == (None, None)
    entry = case_file["actions"][-1]
    assert (entry["action"], entry["actor"], entry["from_status"], entry["to_status"]) == (
        "withdrawn",
        "customer",
        "assigned",
        "closed",
    )
    assert entry["detail"]["reason"] == MASKED
    assert "13812345678" not in str(case_file)

    # sla-watch stops every clock, and routing's case file shows them stopped.
    stopped = wait_for(
        lambda: (
            (clocks := _clocks(platform, complaint_id))
            and all(c["state"] == "stopped" for c in clocks)
            and clocks
        ),
        what="the clocks stopped",
    )
    assert {c["clock_id"] for c in running} <= {c["clock_id"] for c in stopped}
    assert {c["outcome"] for c in stopped} == {"cancelled"}, stopped
    wait_for(
        lambda: all(
            c["state"] == "stopped" for c in _case_file(platform, complaint_id)["sla"]["clocks"]
        ),
        what="the case file's clocks stopped",
    )

    # The assignee's notice and the customer's confirmation.
    [notice] = _mail(
        platform, staff_email(agent), f"Complaint {reference} withdrawn by the customer"
    )
    assert "no further work" in notice.body
    [confirmation] = _mail(platform, email, f"Your complaint {reference} has been withdrawn")
    assert "Dear Withdrawal Tester," in confirmation.body

    # intake keeps it closed and withdrawn, with routing's closure in its history.
    def closure_projected() -> dict[str, Any] | None:
        view = _view(platform, complaint_id)
        return view if any(h["type"].endswith(".closed.v1") for h in view["history"]) else None

    closed = wait_for(closure_projected, what="routing's closure in intake's history")
    assert (closed["status"], closed["close_reason"]) == ("closed", "withdrawn")
    types = [h["type"].split(".")[-2] for h in closed["history"]]
    assert types.index("withdrawn") < types.index("closed")

    # A message, or a second withdrawal, is refused.
    message = _as_customer(platform, accepted, "messages", {"text": "Actually, one more thing."})
    assert message.status_code == 409, message.text
    assert message.json()["type"].endswith("/complaint-withdrawn")
    again = _as_customer(platform, accepted, "withdraw", {})
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("/complaint-withdrawn")
    # Nobody asks the customer for a survey of a complaint they withdrew.
    assert not [m for m in platform.mail.to(email) if "survey" in m.body.lower()]


def test_withdrawing_an_unknown_complaint_or_with_a_too_long_reason_is_refused(
    platform: Platform,
) -> None:
    with platform.client() as client:
        unknown = client.post(f"/v1/complaints/{uuid.uuid4()}/withdraw", json={})
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["content-type"] == "application/problem+json"

    accepted = _post(platform, "withdrawal.bad.input@example.com")
    too_long = _as_customer(platform, accepted, "withdraw", {"reason": "x" * 2001})
    assert too_long.status_code == 422, too_long.text
    assert too_long.headers["content-type"] == "application/problem+json"
    assert too_long.json()["errors"][0]["field"] == "reason"
    assert _view(platform, accepted["id"])["status"] != "closed"
