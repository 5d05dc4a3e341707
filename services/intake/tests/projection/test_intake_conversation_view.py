"""The customer's tracking view shows what staff told and asked them (§3): the first
response and replies with their text, the question asked while waiting for them, each with
the name it is signed with (never a user id) and its time; the closure it records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintFirstResponseSent,
)
from intake.projection.domain.visibility import customer_data

from .conftest import API_KEY, Intake, get, post, project, row

NOW = datetime.now(UTC)


async def test_the_customer_reads_answers_and_questions_signed_by_name(intake: Intake) -> None:
    posted = await post(intake)
    cid = posted["id"]
    first_id = await project(
        intake,
        ComplaintFirstResponseSent(
            complaint_id=cid,
            actor="agent-li",
            responded_at=NOW,
            message="您好，退款已提交。",
            agent_name="李娜",
        ),
        source="routing",
    )
    await project(
        intake,
        ComplaintAwaitingCustomer(
            complaint_id=cid, actor="agent-li", reason="请提供退款单号", since=NOW
        ),
        source="routing",
    )
    await project(
        intake,
        ComplaintAgentReplied(
            complaint_id=cid,
            actor="agent-li",
            replied_at=NOW,
            message="已收到，谢谢。",
            agent_name="退款服务组",
        ),
        source="routing",
    )
    customer = await get(intake, cid, {"X-Tracking-Token": posted["tracking_token"]})
    first, question, reply = customer["history"][-3:]
    assert (first["event_id"], first["type"]) == (first_id, ComplaintFirstResponseSent.ce_type())
    assert first["data"] == {"message": "您好，退款已提交。", "agent_name": "李娜"}
    assert first["time"]
    # No display name in the event: a neutral label in the complaint's language (zh-CN).
    assert question["data"] == {"question": "请提供退款单号", "agent_name": "客服"}
    assert reply["data"] == {"message": "已收到，谢谢。", "agent_name": "退款服务组"}
    assert "agent-li" not in str(customer["history"])
    # A front end's key gets the same: the customer's view, never the user id.
    front_end = await get(intake, cid, {"X-API-Key": API_KEY})
    assert front_end["history"] == customer["history"]


def test_a_first_response_without_text_shows_no_message() -> None:
    data = ComplaintFirstResponseSent(
        complaint_id="0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40", actor="agent-li", responded_at=NOW
    ).model_dump(mode="json")
    shown = customer_data(ComplaintFirstResponseSent.ce_type(), data, language="en")
    assert shown == {"message": None, "agent_name": "Customer Service"}
    # Events from before answers carried their text show the step without it.
    old = customer_data(ComplaintAgentReplied.ce_type(), {"actor": "agent-li"}, language="zh-CN")
    assert old == {"message": None, "agent_name": "客服"}


async def test_the_closure_is_recorded_for_a_later_message(intake: Intake) -> None:
    cid = (await post(intake))["id"]
    closed_at = NOW - timedelta(days=3)
    await project(
        intake,
        ComplaintClosed(
            complaint_id=cid,
            reason="auto_closed",
            evidence_event_id="ev-1",
            actor="feedback",
            closed_at=closed_at,
        ),
        source="routing",
    )
    complaint = await row(intake, cid)
    assert (complaint.status, complaint.closed_at, complaint.close_reason) == (
        "closed",
        closed_at,
        "auto_closed",
    )
