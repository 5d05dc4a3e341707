"""Feedback's use cases. Each runs in one transaction and stages its events in the outbox.

The consumer's use cases run in the consumer's unit of work; the customer's answer and the
auto-close open their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintAutoClosed,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintResolved,
)
from complaint_contracts.privacy import redact_contacts
from complaint_contracts.vocabulary import Language, PreferredChannel
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import DomainError

from feedback import metrics
from feedback.db import ComplaintInfo, ConfirmationRequest, Requests
from feedback.domain.answers import Confirmed, Outcome, OutcomeName, Reopened, outcome
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.domain.links import LinkClaims
from feedback.domain.refusals import ConfirmationRequestNotFound, refusal, refusal_reason
from feedback.domain.requests import Question, delivery_channel, expiry, questions

SOURCE = "feedback"
DEFAULT_LANGUAGE: Language = "zh-CN"
# request_id = uuid5(resolved event id): a resolution gives the same request however often
# its event is delivered, even under a different consumer group or after a replay.
_REQUEST_NAMESPACE = uuid.UUID("5b0f3c52-8a8e-4c39-9d43-8f7f5e0f2a11")
_WAITING_BATCH = 100


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def request_id_for(resolved_event_id: str) -> str:
    return str(uuid.uuid5(_REQUEST_NAMESPACE, resolved_event_id))


def _emit(uow: UnitOfWork, data: EventData, *, complaint_id: str, now: datetime) -> str:
    return uow.add_event(
        data, topic=topics.FEEDBACK.name, source=SOURCE, subject=complaint_id, time=now
    )


async def remember_complaint(
    *,
    uow: UnitOfWork,
    received: ComplaintReceived,
    loop_settings: ClosedLoopSettings,
    now: datetime | None = None,
) -> None:
    """Keep the complaint's reference, channel and language, and send the requests of any
    resolution that arrived before it (the two topics are not ordered with each other)."""
    now = _now(now)
    requests = Requests(uow.session)
    info = await requests.complaint(received.complaint_id)
    if info is None:
        customer = received.customer
        info = ComplaintInfo(
            complaint_id=received.complaint_id,
            reference=received.reference,
            channel=delivery_channel(
                preferred=customer.preferred_channel,
                complaint_channel=received.channel,
                has_phone=customer.masked_phone is not None,
            ),
            language=customer.language,
            received_at=received.received_at,
            customer_ref=customer.customer_ref,
        )
        uow.session.add(info)
    for request in await requests.waiting(complaint_id=received.complaint_id, limit=_WAITING_BATCH):
        _send(
            uow,
            request,
            reference=info.reference,
            channel=cast(PreferredChannel, info.channel),
            language=cast(Language, info.language),
            loop_settings=loop_settings,
            now=now,
        )


async def request_confirmation(
    *,
    uow: UnitOfWork,
    resolved: ComplaintResolved,
    resolved_event_id: str,
    loop_settings: ClosedLoopSettings,
    now: datetime | None = None,
) -> ConfirmationRequest | None:
    """A resolution asks the customer to confirm it; it supersedes any earlier request of
    the complaint (a resolution after a reopen). None when this one was already handled."""
    now = _now(now)
    requests = Requests(uow.session)
    request_id = request_id_for(resolved_event_id)
    if await requests.get(request_id) is not None:
        return None
    await requests.end_live(complaint_id=resolved.complaint_id, status="superseded", at=now)
    request = ConfirmationRequest(
        request_id=request_id, complaint_id=resolved.complaint_id, status="waiting", created_at=now
    )
    uow.session.add(request)
    info = await requests.complaint(resolved.complaint_id)
    if info is not None:
        _send(
            uow,
            request,
            reference=info.reference,
            channel=cast(PreferredChannel, info.channel),
            language=cast(Language, info.language),
            loop_settings=loop_settings,
            now=now,
        )
    await uow.session.flush()
    return request


def _send(
    uow: UnitOfWork,
    request: ConfirmationRequest,
    *,
    reference: str | None,
    channel: PreferredChannel,
    language: Language,
    loop_settings: ClosedLoopSettings,
    now: datetime,
) -> None:
    """waiting → pending, with the event notify turns into the message carrying the link.
    The caller holds the row (new, or locked), so a plain attribute update is safe."""
    request.status = "pending"
    request.reference = reference
    request.channel = channel
    request.language = language
    request.requested_at = now
    request.expires_at = expiry(requested_at=now, auto_close_s=loop_settings.auto_close_s)
    _emit(
        uow,
        ComplaintConfirmationRequested(
            complaint_id=request.complaint_id,
            request_id=request.request_id,
            channel=channel,
            language=language,
            requested_at=now,
            expires_at=request.expires_at,
        ),
        complaint_id=request.complaint_id,
        now=now,
    )
    metrics.REQUESTS.labels("false" if reference is not None else "true").inc()


async def cancel_on_close(*, uow: UnitOfWork, closed: ComplaintClosed) -> None:
    """Closed for another reason (duplicate, withdrawn): nobody should be asked any more,
    and no auto-close may follow."""
    if closed.reason in ("confirmed", "auto_closed"):
        return  # our own answer or timeout, already recorded
    await Requests(uow.session).end_live(
        complaint_id=closed.complaint_id, status="cancelled", at=datetime.now(UTC)
    )


@dataclass(frozen=True)
class AnswerResult:
    request_id: str
    complaint_id: str
    outcome: Outcome
    answered_at: datetime
    event_id: str
    reference: str | None = None


async def answer(
    *,
    database: Database,
    claims: LinkClaims,
    solved: bool,
    csat: int,
    comment: str | None,
    loop_settings: ClosedLoopSettings,
    now: datetime | None = None,
) -> AnswerResult:
    """Record the one answer a link allows and tell routing what it means.

    The answer is a conditional UPDATE (pending, unanswered, unexpired): of concurrent
    answers one wins, the others are refused as already answered (409); a link that cannot
    be used is refused with its reason (404, 410)."""
    now = _now(now)
    decided = outcome(solved=solved, csat=csat, reopen_max=loop_settings.reopen_csat_max)
    reopen_reason = decided.reason if isinstance(decided, Reopened) else None
    comment = comment or None
    async with database.unit_of_work() as uow:
        requests = Requests(uow.session)
        won = await requests.record_answer(
            request_id=claims.request_id,
            complaint_id=claims.complaint_id,
            now=now,
            solved=solved,
            csat=csat,
            comment=comment,
            outcome=decided.name,
            reopen_reason=reopen_reason,
        )
        request = await requests.get(claims.request_id)
        if not won:
            raise _refused_answer(request, claims=claims, now=now)
        data = _answer_event(decided, claims=claims, csat=csat, comment=comment, now=now)
        event_id = _emit(uow, data, complaint_id=claims.complaint_id, now=now)
    metrics.ANSWERS.labels(decided.name, reopen_reason or "").inc()
    reference = request.reference if request is not None else None
    return AnswerResult(claims.request_id, claims.complaint_id, decided, now, event_id, reference)


def _answer_event(
    decided: Outcome, *, claims: LinkClaims, csat: int, comment: str | None, now: datetime
) -> ComplaintConfirmed | ComplaintReopened:
    """complaint.confirmed or complaint.reopened; the comment goes out masked."""
    masked = redact_contacts(comment) if comment is not None else None
    if isinstance(decided, Confirmed):
        return ComplaintConfirmed(
            complaint_id=claims.complaint_id,
            request_id=claims.request_id,
            csat=csat,
            comment=masked,
            answered_at=now,
        )
    return ComplaintReopened(
        complaint_id=claims.complaint_id,
        reason=decided.reason,
        request_id=claims.request_id,
        csat=csat,
        comment=masked,
        reopened_at=now,
    )


def _refused_answer(
    request: ConfirmationRequest | None, *, claims: LinkClaims, now: datetime
) -> DomainError:
    reason = refusal_reason(request, claims=claims, now=now)
    metrics.REFUSED.labels(reason or "").inc()
    return refusal(reason or "not_found")


@dataclass(frozen=True)
class Survey:
    """What the customer's link shows: the questions, or the answer it already took."""

    reference: str | None
    language: Language
    questions: tuple[Question, ...]
    expires_at: datetime
    answered_at: datetime | None
    outcome: OutcomeName | None


async def show_survey(*, database: Database, claims: LinkClaims, now: datetime) -> Survey:
    """An answered survey still shows (with its outcome); other refusals do not."""
    async with database.sessions() as session:
        found = await Requests(session).get(claims.request_id)
    reason = refusal_reason(found, claims=claims, now=now)
    if found is None or found.expires_at is None or reason not in (None, "answered"):
        raise refusal(reason or "not_found")
    language: Language = "en" if found.language == "en" else "zh-CN"
    return Survey(
        reference=found.reference,
        language=language,
        questions=questions(language),
        expires_at=found.expires_at,
        answered_at=found.answered_at,
        outcome=cast(OutcomeName | None, found.outcome),
    )


@dataclass(frozen=True)
class SentRequest:
    """A confirmation request that went out (pending, or ended since): what notify needs to
    write to the customer."""

    request_id: str
    complaint_id: str
    reference: str | None
    status: str
    channel: str | None
    language: str | None
    requested_at: datetime
    expires_at: datetime


async def sent_request(*, database: Database, request_id: str) -> SentRequest:
    """A request still waiting for its complaint's details was not sent: not found."""
    async with database.sessions() as session:
        found = await Requests(session).get(request_id)
    if (
        found is None
        or found.status == "waiting"
        or found.requested_at is None
        or found.expires_at is None
    ):
        raise ConfirmationRequestNotFound()
    return SentRequest(
        request_id=found.request_id,
        complaint_id=found.complaint_id,
        reference=found.reference,
        status=found.status,
        channel=found.channel,
        language=found.language,
        requested_at=found.requested_at,
        expires_at=found.expires_at,
    )


async def auto_close_due(*, database: Database, limit: int, now: datetime | None = None) -> int:
    """Expire up to ``limit`` unanswered requests past their deadline, each with its
    complaint.auto_closed in the same transaction; the conditional transition makes it
    once per request even when two loops (or an answer) race for the row."""
    now = _now(now)
    closed = 0
    async with database.unit_of_work() as uow:
        requests = Requests(uow.session)
        for request in await requests.due(now=now, limit=limit):
            if request.requested_at is None or request.expires_at is None:
                continue  # never sent: `due` returns sent requests only
            if not await requests.transition(
                request_id=request.request_id,
                from_status="pending",
                to_status="expired",
                ended_at=now,
            ):
                continue
            _emit(
                uow,
                ComplaintAutoClosed(
                    complaint_id=request.complaint_id,
                    request_id=request.request_id,
                    requested_at=request.requested_at,
                    expired_at=request.expires_at,
                    reminders_sent=1 if request.reminded_at is not None else 0,
                    not_reached=request.unreached_at is not None,
                ),
                complaint_id=request.complaint_id,
                now=now,
            )
            closed += 1
    metrics.AUTO_CLOSED.inc(closed)
    return closed


async def send_overdue_waiting(
    *,
    database: Database,
    loop_settings: ClosedLoopSettings,
    limit: int,
    now: datetime | None = None,
) -> int:
    """Resolutions whose complaint.received never came (dead-lettered, or from before this
    service existed) are asked with the defaults rather than never."""
    now = _now(now)
    async with database.unit_of_work() as uow:
        overdue = await Requests(uow.session).waiting(
            created_before=now - timedelta(seconds=loop_settings.contact_wait_s), limit=limit
        )
        for request in overdue:
            _send(
                uow,
                request,
                reference=None,
                channel=loop_settings.default_channel,
                language=DEFAULT_LANGUAGE,
                loop_settings=loop_settings,
                now=now,
            )
    return len(overdue)
