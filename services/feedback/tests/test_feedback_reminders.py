"""The one reminder and the unreachable customer on SQLite, through feedback's use cases,
its consumer handlers and its auto-close loop: the reminder's event, exactly once, none for
an answered, superseded, cancelled or unreached request; the auto-close reports both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAutoClosed,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    NotificationFailed,
)
from complaint_contracts.examples import example_for
from complaint_runtime.database import Database
from feedback import reminders, service
from feedback.autoclose import AutoCloser
from feedback.bootstrap import build_dependencies
from feedback.config import FeedbackSettings
from feedback.db import ConfirmationRequest
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.messaging import handlers

from .test_feedback_service import (
    LOOP_SETTINGS,
    _answer,
    _get,
    _pending,
    _received,
    _resolved,
    later,
    new_complaint_id,
    outbox,
)

REMINDER = LOOP_SETTINGS.reminder_after_s  # the default: 24 h


async def _remind(database: Database, days: float, limit: int = 10) -> int:
    return await reminders.send_due_reminders(
        database=database, loop_settings=LOOP_SETTINGS, limit=limit, now=later(days)
    )


async def _events(database: Database, name: str) -> list[object]:
    return [e["data"] for e in await outbox(database) if e["name"] == name]


def _no_channel(complaint_id: str, **changes: object) -> NotificationFailed:
    base = example_for(NotificationFailed)
    assert isinstance(base, NotificationFailed)
    values = {
        "complaint_id": complaint_id,
        "template": "survey_invitation",
        "cause_event_type": ComplaintConfirmationRequested.ce_type(),
        "error": "skipped: the customer has no e-mail address",
        "reason": "no_channel",
        "final": True,
        "next_attempt_at": None,
    }
    return base.model_copy(update=values | changes)


async def _report(database: Database, failed: NotificationFailed) -> bool:
    async with database.unit_of_work() as uow:
        return await reminders.record_unreachable(uow=uow, failed=failed)


async def test_an_unanswered_request_is_reminded_once_after_the_delay(database: Database) -> None:
    request = await _pending(database)
    assert REMINDER == 24 * 3600
    assert await _remind(database, 0.99) == 0
    assert await _remind(database, 1) == 1
    assert await _remind(database, 1.5) == 0  # once
    assert await _remind(database, 6.9) == 0
    first, reminder = await _events(database, "complaint.confirmation_requested")
    assert isinstance(first, ComplaintConfirmationRequested)
    assert isinstance(reminder, ComplaintConfirmationRequested)
    assert (first.reminder, reminder.reminder) == (False, True)
    assert reminder.request_id == first.request_id == request.request_id
    assert (reminder.expires_at, reminder.requested_at) == (first.expires_at, first.requested_at)
    assert (reminder.channel, reminder.language) == (first.channel, first.language)
    stored = await _get(database, request.request_id)
    assert (stored.status, stored.reminded_at) == ("pending", later(1))
    # The reminded request still takes its answer (the same link).
    result = await _answer(database, stored)
    assert result.outcome.name == "confirmed"


async def test_the_auto_close_counts_the_reminder(database: Database) -> None:
    reminded = await _pending(database)
    quiet = await _pending(database)
    async with database.unit_of_work() as uow:  # the second one was reminded by nobody
        row = await uow.session.get(ConfirmationRequest, quiet.request_id)
        assert row is not None
        row.status = "expired"  # out of the reminder's way; restored below
    assert await _remind(database, 2) == 1
    async with database.unit_of_work() as uow:
        row = await uow.session.get(ConfirmationRequest, quiet.request_id)
        assert row is not None
        row.status = "pending"
    assert await service.auto_close_due(database=database, limit=10, now=later(8)) == 2
    closed = {
        e.request_id: e
        for e in await _events(database, "complaint.auto_closed")
        if isinstance(e, ComplaintAutoClosed)
    }
    assert closed[reminded.request_id].reminders_sent == 1
    assert closed[quiet.request_id].reminders_sent == 0
    assert not any(e.not_reached for e in closed.values())


async def test_no_reminder_after_an_answer_a_supersession_or_a_cancellation(
    database: Database,
) -> None:
    answered = await _pending(database)
    await _answer(database, answered)
    superseded = await _pending(database)
    await _resolved(database, superseded.complaint_id, event_id="evt-2", at=later(0.5))
    cancelled = await _pending(database)
    closed = example_for(ComplaintClosed)
    assert isinstance(closed, ComplaintClosed)
    async with database.unit_of_work() as uow:
        await service.cancel_on_close(
            uow=uow,
            closed=closed.model_copy(
                update={"complaint_id": cancelled.complaint_id, "reason": "withdrawn"}
            ),
        )
    # Only the request that superseded the second one is reminded, a day after its own send.
    assert await _remind(database, 1.2) == 0
    assert await _remind(database, 1.5) == 1
    [reminder] = [
        e
        for e in await _events(database, "complaint.confirmation_requested")
        if isinstance(e, ComplaintConfirmationRequested) and e.reminder
    ]
    assert reminder.complaint_id == superseded.complaint_id
    assert reminder.request_id != superseded.request_id


async def test_no_reminder_once_expired(database: Database) -> None:
    await _pending(database)
    assert await _remind(database, 7) == 0  # the deadline itself: the auto-close's


async def test_a_round_is_bounded_and_the_next_takes_the_rest(database: Database) -> None:
    for _ in range(3):
        await _pending(database)
    assert await _remind(database, 2, limit=2) == 2
    assert await _remind(database, 2, limit=2) == 1
    assert await _remind(database, 2, limit=2) == 0


async def test_a_configured_delay_in_hours(database: Database) -> None:
    settings = FeedbackSettings(feedback_reminder_after_h=0.5)
    assert settings.loop_settings().reminder_after_s == 1800
    assert FeedbackSettings().loop_settings().reminder_after_s == 24 * 3600
    fast = ClosedLoopSettings(
        auto_close_s=LOOP_SETTINGS.auto_close_s,
        reopen_csat_max=2,
        default_channel="email",
        reminder_after_s=1800,
    )
    await _pending(database)
    now = later(0) + timedelta(minutes=30)
    assert await reminders.send_due_reminders(
        database=database, loop_settings=fast, limit=10, now=now
    )


async def test_the_auto_close_loop_sends_the_reminders(database: Database) -> None:
    """The loop's round: expired requests auto-close, a day-old one is reminded."""
    old = await _pending(database)  # sent at T0, long before now: past its deadline
    complaint_id = new_complaint_id()
    await _received(database, complaint_id)
    recent = await _resolved(database, complaint_id, at=datetime.now(UTC) - timedelta(hours=25))
    assert recent is not None
    closer = AutoCloser(database=database, loop_settings=LOOP_SETTINGS, tick_s=1, batch_size=10)
    assert await closer.run_once() == 1
    assert (await _get(database, old.request_id)).reminded_at is None  # closed instead
    assert (await _get(database, recent.request_id)).reminded_at is not None
    await closer.run_once()
    reminders_sent = [
        e
        for e in await _events(database, "complaint.confirmation_requested")
        if isinstance(e, ComplaintConfirmationRequested) and e.reminder
    ]
    assert [e.request_id for e in reminders_sent] == [recent.request_id]


async def test_an_unreachable_customer_is_not_reminded_and_closes_not_reached(
    database: Database,
) -> None:
    request = await _pending(database)
    assert not await _report(database, _no_channel(request.complaint_id, reason=None))
    assert not await _report(
        database, _no_channel(request.complaint_id, recipient_role="team_lead")
    )
    assert await _report(database, _no_channel(request.complaint_id))
    assert not await _report(database, _no_channel(request.complaint_id))  # redelivered
    assert (await _get(database, request.request_id)).unreached_at is not None
    assert await _remind(database, 2) == 0
    assert await service.auto_close_due(database=database, limit=10, now=later(8)) == 1
    [closed] = await _events(database, "complaint.auto_closed")
    assert isinstance(closed, ComplaintAutoClosed)
    assert (closed.not_reached, closed.reminders_sent) == (True, 0)


async def test_the_consumer_takes_notify_s_report(database: Database) -> None:
    request = await _pending(database)
    deps = build_dependencies(
        FeedbackSettings(feedback_link_secret="reminder-link-secret-0123456789abcdef"), database
    )
    handler = handlers(deps)[NotificationFailed]
    failed = _no_channel(request.complaint_id)
    envelope = Envelope(
        id="evt-failed",
        type=NotificationFailed.ce_type(),
        source="notify",
        subject=request.complaint_id,
        time=later(1),
        data=failed,
        correlation_id="corr-1",
        causation_id=None,
    )
    async with database.unit_of_work() as uow:
        await handler(uow, envelope)
    assert (await _get(database, request.request_id)).unreached_at is not None
