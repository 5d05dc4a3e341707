"""The NPS page's and notify's use cases: what a link shows, the one answer it takes (with
``nps.answered``), the customer's wish not to be asked again, and the request notify
writes the invitation for. Each runs in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from complaint_contracts import topics
from complaint_contracts.events import NpsAnswered
from complaint_contracts.privacy import redact_contacts
from complaint_contracts.vocabulary import Language
from complaint_runtime.database import Database, UnitOfWork

from feedback import metrics
from feedback.domain.links import LinkClaims
from feedback.nps.db import NpsRepository, NpsRequest
from feedback.nps.domain.answers import (
    NpsAlreadyAnswered,
    NpsNotFound,
    NpsRoundNotFound,
    group,
    refusal,
    refusal_reason,
)

SOURCE = "feedback"
NpsState = Literal["open", "answered", "expired"]


@dataclass(frozen=True)
class NpsPage:
    """What the customer's link shows."""

    request_id: str
    period: str
    language: Language
    state: NpsState
    expires_at: datetime
    answered_at: datetime | None
    score: int | None
    opted_out: bool


def _language(value: str) -> Language:
    return "en" if value == "en" else "zh-CN"


def _found(request: NpsRequest | None, claims: LinkClaims) -> NpsRequest:
    if request is None or request.complaint_id != claims.complaint_id:
        raise NpsNotFound()
    return request


async def nps_page(*, database: Database, claims: LinkClaims, now: datetime) -> NpsPage:
    async with database.sessions() as session:
        repository = NpsRepository(session)
        request = _found(await repository.get_request(claims.request_id), claims)
        opted_out = await repository.is_opted_out(request.customer_ref)
    reason = refusal_reason(
        found=True,
        complaint_matches=True,
        answered_at=request.answered_at,
        expires_at=request.expires_at,
        now=now,
    )
    if reason == "expired":
        raise refusal(reason)
    return NpsPage(
        request_id=request.request_id,
        period=request.period,
        language=_language(request.language),
        state="answered" if reason == "answered" else "open",
        expires_at=request.expires_at,
        answered_at=request.answered_at,
        score=request.score,
        opted_out=opted_out,
    )


async def answer(
    *,
    database: Database,
    claims: LinkClaims,
    score: int,
    comment: str | None,
    now: datetime | None = None,
) -> str:
    """Record the link's one answer (a conditional UPDATE: of concurrent answers one wins,
    the others are refused as already answered) and stage ``nps.answered`` with the
    comment masked; the event's id."""
    now = now or datetime.now(UTC)
    bucket = group(score)
    async with database.unit_of_work() as uow:
        repository = NpsRepository(uow.session)
        won = await repository.record_answer(
            request_id=claims.request_id,
            complaint_id=claims.complaint_id,
            score=score,
            comment=comment,
            now=now,
        )
        request = await repository.get_request(claims.request_id)
        if request is None:
            raise NpsNotFound()
        if not won:
            reason = refusal_reason(
                found=True,
                complaint_matches=request.complaint_id == claims.complaint_id,
                answered_at=request.answered_at,
                expires_at=request.expires_at,
                now=now,
            )
            raise refusal(reason or "not_found")
        event_id = uow.add_event(
            NpsAnswered(
                complaint_id=request.complaint_id,
                request_id=request.request_id,
                period=request.period,
                score=score,
                comment=redact_contacts(comment) if comment else None,
                answered_at=now,
            ),
            topic=topics.FEEDBACK.name,
            source=SOURCE,
            subject=request.complaint_id,
            time=now,
        )
    metrics.NPS_ANSWERS.labels(bucket).inc()
    return event_id


async def opt_out(*, database: Database, claims: LinkClaims, now: datetime | None = None) -> bool:
    """The customer of the link is never asked again (kept once); whether it is new."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        repository = NpsRepository(uow.session)
        request = _found(await repository.get_request(claims.request_id), claims)
        new = await repository.opt_out(
            customer_ref=request.customer_ref, request_id=request.request_id, now=now
        )
    if new:
        metrics.NPS_OPT_OUTS.inc()
    return new


@dataclass(frozen=True)
class SentNpsRequest:
    """What notify needs to write the invitation."""

    request_id: str
    complaint_id: str
    period: str
    language: Language
    channel: str
    requested_at: datetime
    expires_at: datetime
    status: Literal["pending", "answered", "expired"]


async def sent_request(
    *, database: Database, request_id: str, now: datetime | None = None
) -> SentNpsRequest:
    now = now or datetime.now(UTC)
    async with database.sessions() as session:
        request = await NpsRepository(session).get_request(request_id)
    if request is None:
        raise NpsNotFound()
    status: Literal["pending", "answered", "expired"] = "pending"
    if request.answered_at is not None:
        status = "answered"
    elif request.expires_at <= now:
        status = "expired"
    return SentNpsRequest(
        request_id=request.request_id,
        complaint_id=request.complaint_id,
        period=request.period,
        language=_language(request.language),
        channel=request.channel,
        requested_at=request.requested_at,
        expires_at=request.expires_at,
        status=status,
    )


@dataclass(frozen=True)
class RoundStatus:
    period: str
    status: str
    trigger: str
    customers_seen: int
    requests_created: int
    period_start: datetime
    period_end: datetime


async def round_status(*, database: Database, period: str) -> RoundStatus:
    async with database.sessions() as session:
        found = await NpsRepository(session).get_round(period)
    if found is None:
        raise NpsRoundNotFound()
    return RoundStatus(
        period=found.period,
        status=found.status,
        trigger=found.trigger,
        customers_seen=found.customers_seen,
        requests_created=found.requests_created,
        period_start=found.period_start,
        period_end=found.period_end,
    )


async def erase(*, uow: UnitOfWork, complaint_id: str, customer_ref: str | None = None) -> None:
    """The complaint's erasure: the customer's raw NPS comments go, its requests no longer
    lead to the customer, and the complaint's customer reference goes, so no later round
    samples the customer by it. With ``customer_ref`` (the customer asked to be erased,
    not a complaint past its retention) also their opt-out and any round's cursor at them.
    Rounds first: a round's batch holds its row while it adds requests, so taking the row
    before the requests keeps the lock order of the batch (no deadlock)."""
    repository = NpsRepository(uow.session)
    if customer_ref is not None:
        await repository.move_cursors_off(customer_ref=customer_ref)
    await repository.erase_comments(complaint_id=complaint_id)
    await repository.unlink_requests(complaint_id=complaint_id)
    await repository.forget_customer(complaint_id=complaint_id)
    if customer_ref is not None:
        await repository.forget_opt_out(customer_ref=customer_ref)


async def answer_from_page(
    *, database: Database, claims: LinkClaims, score: int, comment: str | None, now: datetime
) -> Literal["recorded", "repeated"]:
    """The page's answer: a repeat of a used link changes nothing (the first answer stands
    and the page shows it)."""
    try:
        await answer(database=database, claims=claims, score=score, comment=comment, now=now)
    except NpsAlreadyAnswered:
        return "repeated"
    return "recorded"
