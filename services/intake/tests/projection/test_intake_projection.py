"""Intake's projection of escalations, duplicates and repeat counts, on a database migrated
by intake's own Alembic scripts: the row and the history (intake's own), and what the
customer, and a front end's key, see of them (the customer's view: staff read the internals
in routing)."""

from __future__ import annotations

import pytest
from complaint_contracts.events import (
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
    ComplaintEscalated,
    ComplaintEscalationRequested,
    ComplaintTriaged,
)
from complaint_contracts.examples import example_for
from intake.db import ComplaintRepository

from .conftest import API_KEY, Intake, get, post, project, row

STAFF_ONLY_FIELDS = ("escalation_level", "duplicate_of", "repeat_count")


def escalated(complaint_id: str, level: int, previous_level: int) -> ComplaintEscalated:
    return ComplaintEscalated.model_validate(
        {
            "complaint_id": complaint_id,
            "level": level,
            "previous_level": previous_level,
            "trigger": "resolution_breach" if level == 2 else "first_response_breach",
            "reason": "clock breached",
            "clock_id": "clk-1",
            "metric": "resolution",
            "actor": "sla-watch",
        }
    )


async def test_a_new_complaint_is_not_escalated_nor_a_duplicate(intake: Intake) -> None:
    posted = await post(intake)
    stored = await row(intake, posted["id"])
    assert (stored.escalation_level, stored.repeat_count) == (0, 0)
    assert (stored.duplicate_of, stored.duplicate_of_reference) == (None, None)
    body = await get(intake, posted["id"], {"X-API-Key": API_KEY})
    assert body["duplicate_of_reference"] is None


async def test_escalations_are_projected_with_their_step(intake: Intake) -> None:
    complaint_id = (await post(intake))["id"]
    await project(intake, escalated(complaint_id, 1, 0), source="sla-watch")
    await project(intake, escalated(complaint_id, 2, 1), source="sla-watch")

    stored = await row(intake, complaint_id)
    assert stored.escalation_level == 2
    assert stored.status == "received"  # orthogonal to the state
    async with intake.database.sessions() as session:
        history = await ComplaintRepository(session).history(complaint_id)
    step = history[-1]
    assert (step.event_type, step.source) == (ComplaintEscalated.ce_type(), "sla-watch")
    assert (step.data["level"], step.data["trigger"]) == (2, "resolution_breach")


@pytest.mark.parametrize("caller", ["customer", "front end"])
async def test_neither_customers_nor_front_ends_see_escalations(
    intake: Intake, caller: str
) -> None:
    posted = await post(intake)
    await project(intake, escalated(posted["id"], 1, 0), source="sla-watch")
    headers = (
        {"X-Tracking-Token": posted["tracking_token"]}
        if caller == "customer"
        else {"X-API-Key": API_KEY}
    )
    body = await get(intake, posted["id"], headers)
    for staff_only in STAFF_ONLY_FIELDS:
        assert staff_only not in body
    assert [step["type"] for step in body["history"]] == [
        "org.opencomplaints.complaint.received.v1"
    ]


async def test_customers_do_not_see_an_escalation_request_or_an_unlink(intake: Intake) -> None:
    posted = await post(intake)
    requested = example_for(ComplaintEscalationRequested).model_copy(
        update={"complaint_id": posted["id"]}
    )
    unlinked = example_for(ComplaintDuplicateUnlinked).model_copy(
        update={"complaint_id": posted["id"]}
    )
    await project(intake, requested, source="routing")
    await project(intake, unlinked, source="routing")
    customer = await get(intake, posted["id"], {"X-Tracking-Token": posted["tracking_token"]})
    assert [step["type"] for step in customer["history"]] == [
        "org.opencomplaints.complaint.received.v1"
    ]
    front_end = await get(intake, posted["id"], {"X-API-Key": API_KEY})
    assert front_end["history"] == customer["history"]


async def test_a_duplicate_tells_which_reference_stands(intake: Intake) -> None:
    original = await post(intake)
    duplicate = await post(intake, subject="退款还是没到")
    linked = ComplaintDuplicateLinked(
        complaint_id=duplicate["id"],
        duplicate_of=original["id"],
        matched_on=("same_customer_ref", "similar_text"),
        similarity=0.93,
        actor="routing",
    )
    await project(intake, linked, source="routing")

    stored = await row(intake, duplicate["id"])
    assert (stored.duplicate_of, stored.duplicate_of_reference) == (
        original["id"],
        original["reference"],
    )
    customer = await get(intake, duplicate["id"], {"X-Tracking-Token": duplicate["tracking_token"]})
    assert "duplicate_of" not in customer  # another complaint's id is internal
    assert customer["duplicate_of_reference"] == original["reference"]
    front_end = await get(intake, duplicate["id"], {"X-API-Key": API_KEY})
    assert front_end == customer  # how it matched is routing's
    step = customer["history"][-1]
    assert step["type"] == ComplaintDuplicateLinked.ce_type()
    assert step["data"] == {"duplicate_of_reference": original["reference"]}
    # The original is untouched.
    assert (await row(intake, original["id"])).duplicate_of is None


async def test_the_repeat_count_comes_from_triage(intake: Intake) -> None:
    complaint_id = (await post(intake))["id"]
    triaged = ComplaintTriaged(
        complaint_id=complaint_id,
        category="billing_refund",
        confidence=0.9,
        priority="P2",
        emotion="yellow",
        repeat_count=2,
    )
    await project(intake, triaged, source="routing")
    assert (await row(intake, complaint_id)).repeat_count == 2
    body = await get(intake, complaint_id, {"X-API-Key": API_KEY})
    assert (body["priority"], body["status"]) == ("P2", "triaged")
    assert "repeat_count" not in body
