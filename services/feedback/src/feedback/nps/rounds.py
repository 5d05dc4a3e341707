"""The NPS rounds: once a period has ended (plus ``NPS_ROUND_DELAY_S``), its round asks the
sampled customers, one request and one ``nps.survey_requested`` each.

A round is a row (``nps_rounds``) created once per period, by the schedule or by an
operator; it is then worked through in bounded transactions. Each transaction claims the
open round (``FOR UPDATE SKIP LOCKED``: another replica working on it is not waited for),
takes the next customers of the period in ``customer_ref`` order after the round's cursor,
samples them (:mod:`feedback.nps.domain.sampling`: pure, reproducible), inserts their
requests (``ON CONFLICT DO NOTHING`` on period and customer), stages one event per new
request and moves the cursor, all in one commit. A crash loses at most the batch in
flight, which the next transaction redoes to the same result; a round is ``done`` when a
batch comes back short.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from complaint_contracts import topics
from complaint_contracts.events import NpsSurveyRequested
from complaint_contracts.vocabulary import Language, PreferredChannel
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Conflict, InvalidInput

from feedback import metrics
from feedback.nps.db import NpsRepository, NpsRequest, NpsRound
from feedback.nps.domain.answers import expiry
from feedback.nps.domain.periods import PartialPeriod, Period, latest_ended, named_period
from feedback.nps.domain.sampling import Candidate, request_id_for, sample
from feedback.nps.domain.settings import NpsSettings

SOURCE = "feedback"


def scheduled_period(nps: NpsSettings, now: datetime) -> Period | None:
    """The period whose round is due at ``now``: the latest one that ended at least
    ``round_delay_s`` ago (None when the schedule is ``off``)."""
    return latest_ended(
        nps.schedule, now - timedelta(seconds=nps.round_delay_s), ZoneInfo(nps.zone)
    )


async def open_round(
    *,
    database: Database,
    period: Period,
    trigger: str,
    nps: NpsSettings,
    now: datetime | None = None,
) -> bool:
    """Create the period's round unless it exists; whether this call created it."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        return await NpsRepository(uow.session).create_round(
            period=period.key,
            start=period.start,
            end=period.end,
            trigger=trigger,
            sample_percent=nps.sample_percent,
            now=now,
        )


async def open_requested_round(
    *,
    database: Database,
    nps: NpsSettings,
    start: datetime | None,
    end: datetime | None,
    now: datetime | None = None,
) -> str:
    """An operator's round: the period they name, or without one the schedule's latest
    ended period (no delay: they ask for it now); its key. Opening it twice is harmless.
    A named window that is exactly a scheduled period is that period (its key: nobody
    asked twice); one that covers part of a scheduled period is refused (Conflict)."""
    now = now or datetime.now(UTC)
    if start is None and end is None:
        period = latest_ended(nps.schedule, now, ZoneInfo(nps.zone))
        if period is None:
            raise InvalidInput("NPS_SCHEDULE is off: name the period (start and end).")
    elif start is None or end is None:
        raise InvalidInput("A period needs both its start and its end.")
    else:
        try:
            period = named_period(nps.schedule, start, end, ZoneInfo(nps.zone))
        except PartialPeriod as exc:
            raise Conflict(str(exc)) from exc
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
    await open_round(database=database, period=period, trigger="operator", nps=nps, now=now)
    return period.key


async def open_scheduled_round(
    *, database: Database, nps: NpsSettings, now: datetime | None = None
) -> Period | None:
    """The schedule's due round, created if missing (cheap when it exists: one lookup)."""
    now = now or datetime.now(UTC)
    period = scheduled_period(nps, now)
    if period is None:
        return None
    async with database.sessions() as session:
        if await NpsRepository(session).get_round(period.key) is not None:
            return period
    await open_round(database=database, period=period, trigger="schedule", nps=nps, now=now)
    return period


async def run_batch(*, database: Database, nps: NpsSettings, now: datetime | None = None) -> bool:
    """One batch of the oldest open round; whether there was a round to work on."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        repository = NpsRepository(uow.session)
        round_ = await repository.claim_open_round()
        if round_ is None:
            return False
        customers = await repository.next_customers(
            start=round_.period_start,
            end=round_.period_end,
            after=round_.cursor,
            limit=nps.batch_size,
        )
        picks = sample(
            seed=nps.seed,
            period=round_.period,
            candidates=await repository.candidates(
                start=round_.period_start, end=round_.period_end, customers=customers
            ),
            percent=round_.sample_percent,
        )  # next_customers leaves out opted-out customers already
        created = 0
        for pick in picks:
            created += await _ask(uow, repository, round_, pick, nps=nps, now=now)
        round_.customers_seen += len(customers)
        round_.requests_created += created
        if customers:
            round_.cursor = customers[-1]
        trigger, finished = round_.trigger, len(customers) < nps.batch_size
        if finished:
            round_.status = "done"
            round_.finished_at = now
    metrics.NPS_REQUESTS.labels(trigger).inc(created)
    if finished:
        metrics.NPS_ROUNDS.labels(trigger).inc()
    return True


async def _ask(
    uow: UnitOfWork,
    repository: NpsRepository,
    round_: NpsRound,
    pick: Candidate,
    *,
    nps: NpsSettings,
    now: datetime,
) -> int:
    """The customer's request and its event; nothing when the request exists (a batch
    redone after a crash, or a second round of the same period)."""
    language: Language = "en" if pick.language == "en" else "zh-CN"
    request = NpsRequest(
        request_id=request_id_for(period=round_.period, customer_ref=pick.customer_ref),
        period=round_.period,
        customer_ref=pick.customer_ref,
        complaint_id=pick.complaint_id,
        language=language,
        channel=pick.channel,
        requested_at=now,
        expires_at=expiry(requested_at=now, answer_s=nps.answer_s),
        answered_at=None,
        score=None,
        comment=None,
    )
    if not await repository.add_request(request):
        return 0
    uow.add_event(
        NpsSurveyRequested(
            complaint_id=request.complaint_id,
            request_id=request.request_id,
            customer_ref=request.customer_ref,
            period=request.period,
            channel=cast(PreferredChannel, request.channel),
            language=language,
            requested_at=now,
            expires_at=request.expires_at,
        ),
        topic=topics.FEEDBACK.name,
        source=SOURCE,
        subject=request.complaint_id,
        time=now,
    )
    return 1


async def drain(
    *, database: Database, nps: NpsSettings, should_stop: Callable[[], bool] = lambda: False
) -> int:
    """Run batches until no round is open (or ``should_stop``); the number of batches."""
    batches = 0
    while not should_stop() and await run_batch(database=database, nps=nps):
        batches += 1
    return batches
