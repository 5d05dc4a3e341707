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
from complaint_runtime.problems import Problem

from feedback import metrics
from feedback.db import ComplaintInfo, ConfirmationRequest, Requests
from feedback.domain.answers import Confirmed, Outcome, Reopened, outcome
from feedback.domain.links import LinkClaims
from feedback.domain.requests import delivery_channel, expiry

SOURCE = "feedback"
DEFAULT_LANGUAGE: Language = "zh-CN"
# request_id = uuid5(resolved event id): a resolution gives the same request however often
# its event is delivered, even under a different consumer group or after a replay.
_REQUEST_NAMESPACE = uuid.UUID("5b0f3c52-8a8e-4c39-9d43-8f7f5e0f2a11")
_WAITING_BATCH = 100


@dataclass(frozen=True)
class Policy:
    """The configured numbers the use cases need (from FeedbackSettings)."""

    auto_close_s: float
    reopen_csat_max: int
    default_channel: PreferredChannel
    contact_wait_s: float = 300.0


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def request_id_for(resolved_event_id: str) -> str:
    return str(uuid.uuid5(_REQUEST_NAMESPACE, resolved_event_id))


def _emit(uow: UnitOfWork, data: EventData, *, complaint_id: str, now: datetime) -> str:
    return uow.add_event(
        data, topic=topics.FEEDBACK.name, source=SOURCE, subject=complaint_id, time=now
    )


async def remember_complaint(
    *, uow: UnitOfWork, received: ComplaintReceived, policy: Policy, now: datetime | None = None
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
        )
        uow.session.add(info)
    for request in await requests.waiting(complaint_id=received.complaint_id, limit=_WAITING_BATCH):
        _send(
            uow,
            request,
            reference=info.reference,
            channel=cast(PreferredChannel, info.channel),
            language=cast(Language, info.language),
            policy=policy,
            now=now,
        )


async def request_confirmation(
    *,
    uow: UnitOfWork,
    resolved: ComplaintResolved,
    resolved_event_id: str,
    policy: Policy,
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
            policy=policy,
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
    policy: Policy,
    now: datetime,
) -> None:
    """waiting → pending, with the event notify turns into the message carrying the link.
    The caller holds the row (new, or locked), so a plain attribute update is safe."""
    request.status = "pending"
    request.reference = reference
    request.channel = channel
    request.language = language
    request.requested_at = now
    request.expires_at = expiry(requested_at=now, auto_close_s=policy.auto_close_s)
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


async def erase(*, uow: UnitOfWork, complaint_id: str) -> None:
    """The only personal data feedback holds is the customer's raw comment."""
    await Requests(uow.session).erase_comments(complaint_id=complaint_id)


@dataclass(frozen=True)
class AnswerResult:
    request_id: str
    complaint_id: str
    outcome: Outcome
    answered_at: datetime
    event_id: str


async def answer(
    *,
    database: Database,
    claims: LinkClaims,
    solved: bool,
    csat: int,
    comment: str | None,
    policy: Policy,
    now: datetime | None = None,
) -> AnswerResult:
    """Record the one answer a link allows and tell routing what it means."""
    now = _now(now)
    decided = outcome(solved=solved, csat=csat, reopen_max=policy.reopen_csat_max)
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
            reopen_reason=decided.reason if isinstance(decided, Reopened) else None,
        )
        if not won:
            raise _refusal(await requests.get(claims.request_id), claims=claims, now=now)
        masked = redact_contacts(comment) if comment is not None else None
        data: ComplaintConfirmed | ComplaintReopened
        if isinstance(decided, Confirmed):
            data = ComplaintConfirmed(
                complaint_id=claims.complaint_id,
                request_id=claims.request_id,
                csat=csat,
                comment=masked,
                answered_at=now,
            )
        else:
            data = ComplaintReopened(
                complaint_id=claims.complaint_id,
                reason=decided.reason,
                request_id=claims.request_id,
                csat=csat,
                comment=masked,
                reopened_at=now,
            )
        event_id = _emit(uow, data, complaint_id=claims.complaint_id, now=now)
    metrics.ANSWERS.labels(
        decided.name, decided.reason if isinstance(decided, Reopened) else ""
    ).inc()
    return AnswerResult(claims.request_id, claims.complaint_id, decided, now, event_id)


def _refusal(request: ConfirmationRequest | None, *, claims: LinkClaims, now: datetime) -> Problem:
    reason = refusal_reason(request, claims=claims, now=now)
    metrics.REFUSED.labels(reason).inc()
    return problem_for(reason)


def refusal_reason(
    request: ConfirmationRequest | None, *, claims: LinkClaims, now: datetime
) -> str:
    """Why a link cannot be used (now): not_found, answered, expired or closed; '' if it can."""
    if (
        request is None
        or request.complaint_id != claims.complaint_id
        or request.status == "waiting"
    ):
        return "not_found"
    if request.status == "answered" or request.answered_at is not None:
        return "answered"
    if request.status == "expired" or (
        request.expires_at is not None and request.expires_at <= now
    ):
        return "expired"
    if request.status in ("superseded", "cancelled"):
        return "closed"
    return ""


def problem_for(reason: str) -> Problem:
    if reason == "answered":
        return Problem(
            409,
            "Survey already answered",
            "This link has been used; each link takes one answer.",
            kind="survey-answered",
        )
    if reason == "expired":
        return Problem(410, "Survey expired", "This link has expired.", kind="survey-expired")
    if reason == "closed":
        return Problem(
            410,
            "Survey no longer open",
            "A newer survey replaced this one, or the complaint was closed.",
            kind="survey-closed",
        )
    return link_not_found()


def link_not_found() -> Problem:
    # Forged, tampered and unknown links get the same answer: nothing to probe.
    return Problem(404, "Survey not found", "No survey behind this link.", kind="survey-not-found")


async def find_request(*, database: Database, request_id: str) -> ConfirmationRequest | None:
    async with database.sessions() as session:
        return await Requests(session).get(request_id)


async def auto_close_due(*, database: Database, limit: int, now: datetime | None = None) -> int:
    """Expire up to ``limit`` unanswered requests past their deadline, each with its
    complaint.auto_closed in the same transaction; the conditional transition makes it
    once per request even when two loops (or an answer) race for the row."""
    now = _now(now)
    closed = 0
    async with database.unit_of_work() as uow:
        requests = Requests(uow.session)
        for request in await requests.due(now=now, limit=limit):
            assert request.requested_at is not None
            assert request.expires_at is not None
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
                ),
                complaint_id=request.complaint_id,
                now=now,
            )
            closed += 1
    metrics.AUTO_CLOSED.inc(closed)
    return closed


async def send_overdue_waiting(
    *, database: Database, policy: Policy, limit: int, now: datetime | None = None
) -> int:
    """Resolutions whose complaint.received never came (dead-lettered, or from before this
    service existed) are asked with the defaults rather than never."""
    now = _now(now)
    async with database.unit_of_work() as uow:
        overdue = await Requests(uow.session).waiting(
            created_before=now - timedelta(seconds=policy.contact_wait_s), limit=limit
        )
        for request in overdue:
            _send(
                uow,
                request,
                reference=None,
                channel=policy.default_channel,
                language=DEFAULT_LANGUAGE,
                policy=policy,
                now=now,
            )
    return len(overdue)
