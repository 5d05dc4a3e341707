"""The one reminder of an unanswered confirmation request (§3), and customers nobody can
reach (Decision: unreachable customers).

Reminders: each round claims due requests (``FOR UPDATE SKIP LOCKED``: replicas share the
work instead of waiting for each other), and per request sets ``reminded_at`` with a
conditional UPDATE and stages ``complaint.confirmation_requested`` with ``reminder=true``,
the same request id, request time and deadline, in one transaction: a request is reminded
exactly once, however many loops run and whenever one crashes. Notify sends it like the
request (the same link); routing records ``confirmation_reminded``.

Not reached: notify reports ``notification.failed`` with reason ``no_channel`` when no
channel reaches the customer about the request. The live request is then marked
``unreached_at``: it gets no reminder (it could only fail again) and its auto-close says
``not_reached`` (routing gives the team lead a task about the customer).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from complaint_contracts import topics
from complaint_contracts.events import ComplaintConfirmationRequested, NotificationFailed
from complaint_contracts.vocabulary import Language, PreferredChannel
from complaint_runtime.database import Database, UnitOfWork

from feedback import metrics
from feedback.db import ConfirmationRequest, Requests
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.domain.reminders import ReminderFacts, reminder_due, reports_unreachable_customer
from feedback.service import DEFAULT_LANGUAGE, SOURCE


def _facts(request: ConfirmationRequest) -> ReminderFacts:
    return ReminderFacts(
        status=request.status,
        requested_at=request.requested_at,
        expires_at=request.expires_at,
        answered_at=request.answered_at,
        reminded_at=request.reminded_at,
        unreached_at=request.unreached_at,
    )


async def send_due_reminders(
    *,
    database: Database,
    loop_settings: ClosedLoopSettings,
    limit: int,
    now: datetime | None = None,
) -> int:
    """Remind up to ``limit`` requests that are due at ``now``, in one transaction; returns
    how many were reminded."""
    now = now or datetime.now(UTC)
    after_s = loop_settings.reminder_after_s
    reminded = 0
    async with database.unit_of_work() as uow:
        requests = Requests(uow.session)
        claimed = await requests.reminders_due(
            sent_before=now - timedelta(seconds=after_s), now=now, limit=limit
        )
        for request in claimed:
            if not reminder_due(_facts(request), now=now, reminder_after_s=after_s):
                continue
            if not await requests.mark_reminded(request_id=request.request_id, at=now):
                continue
            _stage_reminder(uow, request, now=now)
            reminded += 1
    metrics.REMINDERS.inc(reminded)
    return reminded


def _stage_reminder(
    uow: UnitOfWork,
    request: ConfirmationRequest,
    *,
    now: datetime,
) -> None:
    """The request again, marked as a reminder: the same id, time and deadline (the link
    notify fetches for it is the request's own). Only sent requests are reminded
    (``reminders_due`` filters on both times), so both are set."""
    uow.add_event(
        ComplaintConfirmationRequested(
            complaint_id=request.complaint_id,
            request_id=request.request_id,
            channel=cast(PreferredChannel, request.channel or "email"),
            language=cast(Language, request.language or DEFAULT_LANGUAGE),
            reminder=True,
            requested_at=cast(datetime, request.requested_at),
            expires_at=cast(datetime, request.expires_at),
        ),
        topic=topics.FEEDBACK.name,
        source=SOURCE,
        subject=request.complaint_id,
        time=now,
    )


async def record_unreachable(
    *, uow: UnitOfWork, failed: NotificationFailed, now: datetime | None = None
) -> bool:
    """notify could not reach the customer about a confirmation request: the complaint's
    live request is not reached. Any other failure is not ours to act on. True when a
    request was marked (a redelivered report finds it marked and changes nothing)."""
    if not reports_unreachable_customer(failed):
        return False
    marked = await Requests(uow.session).mark_unreached(
        complaint_id=failed.complaint_id, at=now or datetime.now(UTC)
    )
    if marked:
        metrics.UNREACHED.inc(marked)
    return bool(marked)
