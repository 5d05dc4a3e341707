"""One valid, realistic example of every event data type.

They appear in the AsyncAPI document and serve tests (here and in the services) as
ready-made, contract-valid events. Everything is fixed, so the generated files are stable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ALL_EVENTS,
    AttachmentRef,
    CaseErasureCompleted,
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAutoClosed,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintContactsCorrected,
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
    ComplaintEscalated,
    ComplaintEscalationRequested,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
    ComplaintWithdrawn,
    CustomerMessageReceived,
    CustomerView,
    ErasureRequested,
    FeedbackErasureCompleted,
    FiredRule,
    NotificationErasureCompleted,
    NotificationFailed,
    NotificationSent,
    NpsAnswered,
    NpsSurveyRequested,
    SlaBreached,
    SlaClockPaused,
    SlaClockRescheduled,
    SlaClockResumed,
    SlaClockStarted,
    SlaClockStopped,
    SlaErasureCompleted,
    SlaWarning,
    TrackingCodeRequested,
)

COMPLAINT_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"
EARLIER_COMPLAINT_ID = "0195a011-2b3c-7d4e-8f50-61728394a5b6"
CAUSE_EVENT_ID = "5b0f8a52-6c1e-4f0a-9d43-2e7b1c9a8f10"
CUSTOMER_REF = "cr_9f2c4e1a7b3d"
T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _build() -> tuple[EventData, ...]:
    return (
        ComplaintReceived(
            complaint_id=COMPLAINT_ID,
            reference="C-20261123-000042",
            channel="web",
            customer=CustomerView(
                customer_ref=CUSTOMER_REF,
                external_ref="cust-1001",
                masked_phone="138****5678",
                masked_email="z***@example.com",
                tier="standard",
                language="zh-CN",
                preferred_channel="sms",
                identity_keys=(
                    "id:9f2c4e1a7b3d5c6e8f90a1b2c3d4e5f6",
                    "phone:5f0c1d2e3a4b5c6d7e8f901a2b3c4d5e",
                    "email:0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                ),
            ),
            subject="退款迟迟未到账",
            description="我10月28日申请的退款到现在还没到账，请回电138****5678。",
            order_ref="ORD-20261028-7781",
            occurred_at=datetime(2026, 10, 28, tzinfo=UTC),
            received_at=T0,
            attachments=(
                AttachmentRef(
                    url="https://files.example.com/a/0195f3c2/receipt.jpg",
                    media_type="image/jpeg",
                    size=182_344,
                ),
            ),
            metadata={"campaign": "double-11"},
        ),
        CustomerMessageReceived(
            complaint_id=COMPLAINT_ID,
            message_id="msg-0002",
            channel="app",
            customer_ref=CUSTOMER_REF,
            text="退款单号是 RF-7781，麻烦尽快处理。",
            received_at=_at(300),
        ),
        ComplaintWithdrawn(
            complaint_id=COMPLAINT_ID,
            customer_ref=CUSTOMER_REF,
            reason="问题已经自行解决了，谢谢",
            withdrawn_at=_at(11_000),
            actor="customer",
        ),
        ComplaintContactsCorrected(
            complaint_id=COMPLAINT_ID,
            customer_ref=CUSTOMER_REF,
            corrected=("phone", "preferred_channel"),
            masked_phone="139****1111",
            masked_email="z***@example.com",
            preferred_channel="email",
            identity_keys=(
                "id:9f2c4e1a7b3d5c6e8f90a1b2c3d4e5f6",
                "phone:7a1b2c3d4e5f60718293a4b5c6d7e8f9",
                "email:0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            ),
            corrected_at=_at(600),
            actor="admin:admin-7",
        ),
        ErasureRequested(
            complaint_id=COMPLAINT_ID,
            erasure_id="era-20261201-0007",
            customer_ref=CUSTOMER_REF,
            reason="customer_request",
            requested_at=_at(12_000),
            actor="agent-0042",
        ),
        TrackingCodeRequested(
            complaint_id=COMPLAINT_ID,
            request_id="0195f9a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
            channel="email",
            matched_on="phone",
            requested_at=_at(13_000),
            expires_at=_at(13_010),
        ),
        ComplaintTriaged(
            complaint_id=COMPLAINT_ID,
            category="billing_refund",
            subcategory="refund_delay",
            confidence=0.92,
            priority="P3",
            emotion="yellow",
            rules_fired=(
                FiredRule(rule="category.billing_refund.keyword", detail="matched '退款'"),
                FiredRule(rule="priority.default", detail="P3"),
            ),
            repeat_count=0,
        ),
        ComplaintRecategorized(
            complaint_id=COMPLAINT_ID,
            old_category="billing_refund",
            new_category="billing_refund",
            old_subcategory="refund_delay",
            new_subcategory="refund_delay",
            old_priority="P3",
            new_priority="P2",
            reason="reopened: priority raised by one level",
            actor="routing",
        ),
        ComplaintDuplicateLinked(
            complaint_id=COMPLAINT_ID,
            duplicate_of=EARLIER_COMPLAINT_ID,
            matched_on=("same_customer_ref", "same_order_ref"),
            similarity=0.87,
            actor="routing",
        ),
        ComplaintDuplicateUnlinked(
            complaint_id=COMPLAINT_ID,
            duplicate_of=EARLIER_COMPLAINT_ID,
            reason="Different order: the customer has two refunds pending",
            actor="lead-0007",
        ),
        ComplaintEscalationRequested(
            complaint_id=COMPLAINT_ID,
            level=2,
            current_level=0,
            reason="The customer threatens to go to the press",
            actor="lead-0007",
            requested_at=_at(9_000),
        ),
        ComplaintAssigned(
            complaint_id=COMPLAINT_ID,
            team="billing",
            assignee="agent-0042",
            owner="agent-0042",
            actor="routing",
            reason="least loaded qualified agent",
        ),
        ComplaintFirstResponseSent(
            complaint_id=COMPLAINT_ID,
            actor="agent-0042",
            channel="sms",
            responded_at=_at(45),
            message="您好，您的退款申请已收到，我们正在与银行核实，今天内回复您。",
            agent_name="李娜",
        ),
        ComplaintAgentReplied(
            complaint_id=COMPLAINT_ID,
            actor="agent-0042",
            in_reply_to="msg-0002",
            channel="app",
            replied_at=_at(330),
            message="退款已重新提交，预计 3 个工作日内到账。",
            agent_name="李娜",
        ),
        ComplaintAwaitingCustomer(
            complaint_id=COMPLAINT_ID,
            actor="agent-0042",
            reason="请提供退款单号，以便我们向银行查询。",
            since=_at(60),
            agent_name="李娜",
        ),
        ComplaintResumed(
            complaint_id=COMPLAINT_ID,
            trigger="customer_message",
            message_id="msg-0002",
            actor="routing",
            resumed_at=_at(300),
        ),
        ComplaintResolved(
            complaint_id=COMPLAINT_ID,
            solution_summary="Refund re-issued to the original card; arrives in 1 working day.",
            solution_type="refund",
            root_cause="Refund batch job skipped orders with split payments.",
            preventive_measure="Batch job fixed and monitored for skipped orders.",
            actor="agent-0042",
            resolved_at=_at(1_440),
        ),
        ComplaintClosed(
            complaint_id=COMPLAINT_ID,
            reason="confirmed",
            evidence_event_id=CAUSE_EVENT_ID,
            confirmation_request_id="cfm-0001",
            actor="routing",
            closed_at=_at(2_000),
        ),
        SlaClockStarted(
            complaint_id=COMPLAINT_ID,
            clock_id="first_response",
            metric="first_response",
            target_seconds=86_400,
            started_at=T0,
            due_at=_at(3 * 1_440),
            calendar_id="cn-default",
            policy_id="default-P3",
            priority="P3",
        ),
        SlaClockPaused(
            complaint_id=COMPLAINT_ID,
            clock_id="resolution",
            metric="resolution",
            paused_at=_at(60),
            elapsed_seconds=3_600,
            reason="awaiting_customer",
        ),
        SlaClockResumed(
            complaint_id=COMPLAINT_ID,
            clock_id="resolution",
            metric="resolution",
            resumed_at=_at(300),
            elapsed_seconds=3_600,
            due_at=_at(5 * 1_440),
        ),
        SlaClockRescheduled(
            complaint_id=COMPLAINT_ID,
            clock_id="resolution",
            metric="resolution",
            reason="priority_changed",
            target_seconds=172_800,
            previous_due_at=_at(5 * 1_440),
            due_at=_at(4 * 1_440),
            calendar_id="cn-default",
            policy_id="default-P2",
        ),
        SlaClockStopped(
            complaint_id=COMPLAINT_ID,
            clock_id="first_response",
            metric="first_response",
            stopped_at=_at(45),
            elapsed_seconds=2_700,
            outcome="met",
            reason="org.opencomplaints.complaint.first_response_sent.v1",
        ),
        SlaWarning(
            complaint_id=COMPLAINT_ID,
            clock_id="resolution",
            metric="resolution",
            percent=75,
            reached_at=_at(3_000),
            due_at=_at(4_000),
            late=False,
            priority="P3",
        ),
        SlaBreached(
            complaint_id=COMPLAINT_ID,
            clock_id="resolution",
            metric="resolution",
            due_at=_at(4_000),
            late=True,
            priority="P3",
            breach_count=1,
        ),
        ComplaintEscalated(
            complaint_id=COMPLAINT_ID,
            level=2,
            previous_level=0,
            trigger="resolution_breach",
            reason="resolution clock breached",
            clock_id="resolution",
            metric="resolution",
            actor="sla-watch",
        ),
        ComplaintConfirmationRequested(
            complaint_id=COMPLAINT_ID,
            request_id="cfm-0001",
            channel="sms",
            language="zh-CN",
            requested_at=_at(1_441),
            expires_at=_at(1_441 + 7 * 1_440),
        ),
        ComplaintConfirmed(
            complaint_id=COMPLAINT_ID,
            request_id="cfm-0001",
            csat=5,
            comment="处理很及时，谢谢！",
            answered_at=_at(1_990),
        ),
        ComplaintReopened(
            complaint_id=COMPLAINT_ID,
            reason="low_csat",
            request_id="cfm-0001",
            csat=2,
            comment="钱还是没到账",
            reopened_at=_at(1_990),
        ),
        ComplaintAutoClosed(
            complaint_id=COMPLAINT_ID,
            request_id="cfm-0001",
            requested_at=_at(1_441),
            expired_at=_at(1_441 + 7 * 1_440),
            reminders_sent=1,
        ),
        NpsSurveyRequested(
            complaint_id=COMPLAINT_ID,
            request_id="0b7e2f4c-93a1-5d2e-8f60-1a2b3c4d5e6f",
            customer_ref=CUSTOMER_REF,
            period="2026-11",
            channel="email",
            language="zh-CN",
            requested_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
            expires_at=datetime(2026, 12, 15, 1, 0, tzinfo=UTC),
        ),
        NpsAnswered(
            complaint_id=COMPLAINT_ID,
            request_id="0b7e2f4c-93a1-5d2e-8f60-1a2b3c4d5e6f",
            period="2026-11",
            score=9,
            comment="客服很耐心，退款也很快。",
            answered_at=datetime(2026, 12, 2, 12, 30, tzinfo=UTC),
        ),
        NotificationSent(
            complaint_id=COMPLAINT_ID,
            notification_id="ntf-0195f3c2-ack-customer",
            channel="sms",
            template="complaint.received.customer",
            language="zh-CN",
            recipient_role="customer",
            recipient="138****5678",
            cause_event_id=CAUSE_EVENT_ID,
            cause_event_type="org.opencomplaints.complaint.received.v1",
            attempts=1,
            sent_at=_at(1),
        ),
        NotificationFailed(
            complaint_id=COMPLAINT_ID,
            notification_id="ntf-0195f3c2-resolved-customer",
            channel="email",
            template="complaint.resolved.customer",
            recipient_role="customer",
            recipient="z***@example.com",
            cause_event_id=CAUSE_EVENT_ID,
            cause_event_type="org.opencomplaints.complaint.resolved.v1",
            error="SMTP 451: temporary failure, retrying",
            attempts=2,
            final=False,
            next_attempt_at=_at(1_450),
            failed_at=_at(1_445),
        ),
        *(
            confirmation(
                complaint_id=COMPLAINT_ID,
                erasure_id="era-20261201-0007",
                erased_at=_at(12_001),
            )
            for confirmation in (
                CaseErasureCompleted,
                SlaErasureCompleted,
                FeedbackErasureCompleted,
                NotificationErasureCompleted,
            )
        ),
    )


EXAMPLES: dict[type[EventData], EventData] = {type(event): event for event in _build()}

_missing = [model.__name__ for model in ALL_EVENTS if model not in EXAMPLES]
if _missing:  # pragma: no cover - caught by the contract tests on the first run
    raise RuntimeError(f"examples missing for {', '.join(_missing)}")


def example_for(model: type[EventData]) -> EventData:
    """A valid example of the given event data type."""
    return EXAMPLES[model]
