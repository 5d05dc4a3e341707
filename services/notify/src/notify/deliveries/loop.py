"""The delivery loop: claims pending deliveries, looks up recipients, renders and sends.

Never the same message twice
----------------------------
1. The consumer only records a ``pending`` row; UNIQUE (event, template, recipient role)
   makes a redelivered event add nothing.
2. The loop claims a batch (``preparing``, attempts + 1): contacts are looked up (the
   batch's intake contacts in one request, before any is prepared) and the message
   rendered. Nothing has been sent, so a claim abandoned by a crash is handed back
   (``pending``) after the lease and sent then.
3. Right before its SMTP session, one row moves to ``sending`` in its own committed
   transaction; then it is sent, and a new transaction marks it ``sent`` and stages
   ``notification.sent`` in the outbox (or ``failed`` / back to ``pending`` with back-off).

A process that dies during that SMTP session or before the commit of ``sent`` leaves the
row in ``sending``. Whether the message went out is unknown, so such a row is **never
resent**: rows left in ``sending`` longer than ``NOTIFY_SENDING_LEASE_S`` (checked at
start-up and every 30 s, so that a live replica's rows are not touched) are marked
``uncertain``, ``notification.failed`` (final, "outcome unknown after a crash") is staged,
and ``notify_uncertain_deliveries_total`` counts them. The same holds for a connection lost
while DATA is in flight. The at-most-once window is one SMTP session plus one commit of one
message (milliseconds on a local relay), narrowed by the deterministic
``Message-ID: <delivery_id@opencomplaints>`` with which a receiving system can drop a
duplicate should an operator redeliver by hand.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

import structlog
from complaint_contracts.events.notify import NotificationChannel
from complaint_runtime.consumer import TransientError, is_transient
from complaint_runtime.database import Database, utcnow
from complaint_runtime.errors import NotFound
from complaint_runtime.periodic import PeriodicLoop

from notify import metrics
from notify.adapters.channels import Channel, OutgoingEmail, SendError, safe_error
from notify.adapters.internal_api import BadResponse, InternalApi
from notify.adapters.outgoing import OutgoingRobotNotice, OutgoingSms, Sender, SendReceipt
from notify.config import NotifySettings
from notify.deliveries import service
from notify.deliveries.db import Delivery
from notify.deliveries.outcomes import OutcomeRecorder
from notify.messages.domain.directory import StaffDirectory
from notify.messages.rendering import Renderer, TemplateMissing
from notify.messages.service import (
    ComplaintFacts,
    DueTimesPending,
    EmailAddressing,
    HeldForQuietHours,
    MessagePreparer,
    NoChannelLeft,
    Outgoing,
    PrefetchedContacts,
    Skip,
    SuppressionCheck,
)
from notify.teams import service as teams

log = structlog.get_logger(__name__)

RECOVERY_EVERY_S = 30.0
METRICS_EVERY_S = 10.0
# After a failed round the next one waits 0.5 s, doubling up to 10 s.
FAILED_ROUND_BACKOFF_BASE_S = 0.25
FAILED_ROUND_BACKOFF_MAX_S = 10.0


def _due(last: datetime | None, now: datetime, every_s: float) -> bool:
    return last is None or (now - last).total_seconds() >= every_s


def _new_claimer() -> str:
    return f"notify-{uuid.uuid4()}"


class SentUnknown(Exception):
    """Something other than the channel's answer ended a send that had begun: whether the
    message went out is unknown, so the delivery is uncertain (never repeated)."""


class RobotChannel(Sender[OutgoingRobotNotice], Protocol):
    """The group-chat robots: a sender that also knows each team's robot's channel."""

    def channel_for(self, team: str | None) -> NotificationChannel | None: ...


class DeliveryLoop:
    """Rounds of claim, prepare, send, record (:class:`PeriodicLoop`): the next round
    starts at once while the last one claimed something, else after
    ``NOTIFY_POLL_INTERVAL_S``."""

    def __init__(
        self,
        *,
        database: Database,
        settings: NotifySettings,
        api: InternalApi,
        channel: Channel,
        directory: StaffDirectory,
        renderer: Renderer | None = None,
        clock: Callable[[], datetime] = utcnow,
        sms: Sender[OutgoingSms] | None = None,
        robots: RobotChannel | None = None,
        suppression: SuppressionCheck | None = None,
        addressing: EmailAddressing | None = None,
    ):
        self._database = database
        self._settings = settings
        self._api = api
        self._channel = channel
        self._sms = sms
        self._robots = robots
        self._clock = clock
        self._preparer = MessagePreparer(
            settings=settings,
            api=api,
            directory=directory,
            renderer=renderer or Renderer(),
            clock=clock,
            sms_enabled=sms is not None,
            robot_channel=robots.channel_for if robots is not None else None,
            suppression=suppression,
            addressing=addressing,
        )
        self._outcomes = OutcomeRecorder(
            database=database, settings=settings, email_channel=channel.name, clock=clock
        )
        self.instance_id = _new_claimer()
        self._last_recovery: datetime | None = None
        self._last_metrics: datetime | None = None
        self._periodic = PeriodicLoop(
            self._round,
            name="delivery loop",
            tick_s=settings.notify_poll_interval_s,
            backoff_base_s=FAILED_ROUND_BACKOFF_BASE_S,
            max_backoff_s=FAILED_ROUND_BACKOFF_MAX_S,
            is_expected=is_transient,
        )

    def stop(self) -> None:
        self._periodic.stop()

    def wake(self) -> None:
        """New work was committed (a delivery recorded or released): a round now, not at
        the next poll."""
        self._periodic.wake()

    async def run(self) -> None:
        self._start_afresh()
        await self._periodic.run()
        await self._api.aclose()  # asked to stop: the process is shutting down
        await self._channel.aclose()
        for sender in (self._sms, self._robots):
            if sender is not None:
                await sender.aclose()
        await self._outcomes.aclose()

    def _start_afresh(self) -> None:
        # A new claimer id at each start and after each failed round: rows claimed by a
        # run that crashed (here or in another process) are then someone else's and
        # become uncertain after the lease, never resent. Recovery is due at once.
        self.instance_id = _new_claimer()
        self._last_recovery = None

    async def _round(self) -> bool:
        """One round for :class:`PeriodicLoop`: more work now when it claimed anything."""
        try:
            return await self.run_once() > 0
        except Exception:
            self._start_afresh()
            raise

    async def run_once(self) -> int:
        """One round: recover abandoned claims when due, claim, send, record."""
        now = self._clock()
        if _due(self._last_recovery, now, RECOVERY_EVERY_S):
            await service.recover_abandoned(
                database=self._database,
                claimer=self.instance_id,
                now=self._clock(),
                lease_s=self._settings.notify_sending_lease_s,
            )
            self._last_recovery = now
        rows = await service.claim_due(
            database=self._database,
            now=now,
            limit=self._settings.notify_batch_size,
            claimer=self.instance_id,
        )
        # The claim is committed here, before anything is sent.
        if rows:
            await self._deliver_all(rows)
        if _due(self._last_metrics, now, METRICS_EVERY_S):
            await self._refresh_metrics()
            self._last_metrics = now
        return len(rows)

    async def _deliver_all(self, rows: list[Delivery]) -> None:
        limit = asyncio.Semaphore(self._settings.notify_send_concurrency)
        contacts = await self._prefetch_contacts(rows)
        facts = await self._facts(rows)

        async def deliver(row: Delivery) -> None:
            async with limit:
                await self._deliver(row, contacts, facts)

        results = await asyncio.gather(*(deliver(row) for row in rows), return_exceptions=True)
        # One INFO line per round; each delivery's own line is DEBUG when it was sent.
        log.info("delivery round finished", claimed=len(rows))
        unrecorded = 0
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                # Recording the outcome failed (database down): the row stays claimed, and
                # is recovered after the lease (``preparing``: sent then; ``sending``:
                # uncertain, never resent).
                unrecorded += 1
                log.error(
                    "delivery outcome not recorded",
                    delivery_id=row.delivery_id,
                    error=safe_error(repr(result)),
                )
        if unrecorded:
            # Recovery leaves this claimer's own rows alone: with a new claimer id, this
            # process recovers them too (the only process, on a small deployment).
            self._start_afresh()

    async def _prefetch_contacts(self, rows: list[Delivery]) -> PrefetchedContacts | None:
        """The batch's intake contacts in one request (per 100 complaints), used for this
        round's sends only. Should that fail unexpectedly, each delivery looks its contact
        up on its own, as the claimed rows must still be prepared and recorded."""
        try:
            return await self._preparer.prefetch_contacts(rows)
        except Exception as exc:
            log.error("contacts not prefetched", error=safe_error(repr(exc)))
            return None

    async def _facts(self, rows: list[Delivery]) -> dict[str, ComplaintFacts]:
        """What notify recorded of the complaints of the batch's staff notices (one query)."""
        ids = {row.complaint_id for row in rows if row.recipient_role != "customer"}
        if not ids:
            return {}
        async with self._database.sessions() as session:
            return dict(await teams.facts_of(session=session, complaint_ids=ids))

    async def _send(self, message: Outgoing) -> SendReceipt:
        """Hand the message to its channel; what the channel answered."""
        match message:
            case OutgoingEmail():
                await self._channel.send(message)
                return SendReceipt(channel="email")
            case OutgoingSms() if self._sms is not None:
                return await self._sms.send(message)
            case OutgoingRobotNotice() if self._robots is not None:
                return await self._robots.send(message)
        raise SendError(f"no sender for {type(message).__name__}", retryable=False)

    async def _refresh_metrics(self) -> None:
        counts = await service.count_by_status(database=self._database)
        for status, count in counts.items():
            metrics.DELIVERIES.labels(status).set(count)

    async def _deliver(
        self,
        row: Delivery,
        contacts: PrefetchedContacts | None = None,
        facts: Mapping[str, ComplaintFacts] | None = None,
    ) -> None:
        try:
            receipt = await self._attempt(row, contacts, facts)
        except Exception as exc:
            if not await self._record_not_ready(row, exc):
                await self._record_failure(row, exc)
        else:
            if receipt is not None:
                await self._outcomes.finish_sent(row=row, claimer=self.instance_id, receipt=receipt)

    async def _attempt(
        self,
        row: Delivery,
        contacts: PrefetchedContacts | None,
        facts: Mapping[str, ComplaintFacts] | None,
    ) -> SendReceipt | None:
        """Prepare, commit ``sending``, send; None when the row was taken away meanwhile
        (declared abandoned and handed to another process): then nothing is sent."""
        message = await self._preparer.prepare(row=row, contacts=contacts, facts=facts)
        if not await service.start_transmitting(
            database=self._database,
            delivery_id=row.delivery_id,
            claimer=self.instance_id,
            now=self._clock(),
            resolved={
                "channel": row.channel,
                "recipient_user": row.recipient_user,
                "recipient_masked": row.recipient_masked,
                "recipient_key": row.recipient_key,
                "language": row.language,
            },
        ):
            return None
        try:
            return await self._send(message)
        except SendError:
            raise
        except Exception as exc:
            # Anything but a channel's own answer, once the send began: it may have gone.
            raise SentUnknown(f"{type(exc).__name__} during the send") from exc

    async def _record_not_ready(self, row: Delivery, exc: Exception) -> bool:
        """Nothing was sent and nothing failed: the message waits (its due times, the
        quiet hours, intake or feedback). False for anything else."""
        outcomes, claimer = self._outcomes, self.instance_id
        match exc:
            case HeldForQuietHours():
                await outcomes.finish_deferred(
                    row=row, reason=str(exc), delay_s=0.0, claimer=claimer, until=exc.until
                )
            case DueTimesPending():
                # Not a failure: the acknowledgement is looked at again in a moment.
                await outcomes.finish_deferred(
                    row=row, reason=str(exc), delay_s=exc.retry_after_s, claimer=claimer
                )
            case TransientError():
                # intake or feedback unreachable: the delivery waits for them, however long.
                await outcomes.finish_waiting(row=row, reason=str(exc), claimer=claimer)
            case _:
                return False
        return True

    async def _record_failure(self, row: Delivery, exc: Exception) -> None:
        outcomes, claimer = self._outcomes, self.instance_id
        match exc:
            case Skip():
                await outcomes.finish_skipped(
                    row=row, reason=str(exc), claimer=claimer, code=exc.reason
                )
            case NotFound():
                reason = f"nothing to send to: {exc}"
                await outcomes.finish_skipped(row=row, reason=reason, claimer=claimer)
            case SendError(uncertain=True) | SentUnknown():
                await outcomes.finish_uncertain(row=row, error=str(exc), claimer=claimer)
            case SendError():
                # The channel refused it: for good, the next channel may carry it.
                await outcomes.finish_failed(
                    row=row,
                    error=str(exc),
                    retryable=exc.retryable,
                    claimer=claimer,
                    fallback=not exc.retryable,
                )
            case TemplateMissing():
                # The chosen channel has no version in this language: the next may.
                await outcomes.finish_failed(
                    row=row, error=str(exc), retryable=False, claimer=claimer, fallback=True
                )
            case NoChannelLeft():
                await outcomes.finish_failed(
                    row=row, error=str(exc), retryable=False, claimer=claimer, code="no_channel"
                )
            case BadResponse():
                await outcomes.finish_failed(
                    row=row, error=str(exc), retryable=False, claimer=claimer
                )
            case _:
                log.error(
                    "delivery failed", delivery_id=row.delivery_id, error=safe_error(repr(exc))
                )
                error = f"{type(exc).__name__}: {exc}"
                await outcomes.finish_failed(row=row, error=error, retryable=False, claimer=claimer)
