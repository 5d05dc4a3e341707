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
from collections.abc import Callable
from datetime import datetime

import structlog
from complaint_runtime.consumer import TransientError, is_transient
from complaint_runtime.database import Database, utcnow
from complaint_runtime.errors import NotFound
from complaint_runtime.periodic import PeriodicLoop

from notify import metrics
from notify.adapters.channels import Channel, SendError, safe_error
from notify.adapters.internal_api import BadResponse, InternalApi
from notify.config import NotifySettings
from notify.deliveries import service
from notify.deliveries.db import Delivery
from notify.deliveries.outcomes import OutcomeRecorder
from notify.messages.domain.directory import StaffDirectory
from notify.messages.rendering import Renderer
from notify.messages.service import DueTimesPending, MessagePreparer, PrefetchedContacts, Skip

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
    ):
        self._database = database
        self._settings = settings
        self._api = api
        self._channel = channel
        self._clock = clock
        self._preparer = MessagePreparer(
            settings=settings,
            api=api,
            directory=directory,
            renderer=renderer or Renderer(),
            clock=clock,
        )
        self._outcomes = OutcomeRecorder(
            database=database, settings=settings, channel=channel, clock=clock
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

        async def deliver(row: Delivery) -> None:
            async with limit:
                await self._deliver(row, contacts)

        results = await asyncio.gather(*(deliver(row) for row in rows), return_exceptions=True)
        # One INFO line per round; each delivery's own line is DEBUG when it was sent.
        log.info("delivery round finished", claimed=len(rows))
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                # Recording the outcome failed (database down): the row stays claimed
                # and becomes uncertain after the lease; it is not sent again.
                log.error(
                    "delivery outcome not recorded",
                    delivery_id=row.delivery_id,
                    error=safe_error(repr(result)),
                )

    async def _prefetch_contacts(self, rows: list[Delivery]) -> PrefetchedContacts | None:
        """The batch's intake contacts in one request (per 100 complaints), used for this
        round's sends only. Should that fail unexpectedly, each delivery looks its contact
        up on its own, as the claimed rows must still be prepared and recorded."""
        try:
            return await self._preparer.prefetch_contacts(rows)
        except Exception as exc:
            log.error("contacts not prefetched", error=safe_error(repr(exc)))
            return None

    async def _refresh_metrics(self) -> None:
        counts = await service.count_by_status(database=self._database)
        for status, count in counts.items():
            metrics.DELIVERIES.labels(status).set(count)

    async def _deliver(self, row: Delivery, contacts: PrefetchedContacts | None = None) -> None:
        outcomes, claimer = self._outcomes, self.instance_id
        try:
            email = await self._preparer.prepare(row=row, contacts=contacts)
            if not await service.start_transmitting(
                database=self._database,
                delivery_id=row.delivery_id,
                claimer=claimer,
                now=self._clock(),
            ):
                return  # declared abandoned meanwhile and handed to another process
            await self._channel.send(email)
        except Skip as exc:
            await outcomes.finish_skipped(
                row=row, reason=str(exc), claimer=claimer, code=exc.reason
            )
        except NotFound as exc:
            reason = f"nothing to send to: {exc}"
            await outcomes.finish_skipped(row=row, reason=reason, claimer=claimer)
        except SendError as exc:
            if exc.uncertain:
                await outcomes.finish_uncertain(row=row, error=str(exc), claimer=claimer)
            else:
                await outcomes.finish_failed(
                    row=row, error=str(exc), retryable=exc.retryable, claimer=claimer
                )
        except DueTimesPending as exc:
            # Not a failure: the acknowledgement is looked at again in a moment.
            await outcomes.finish_deferred(
                row=row, reason=str(exc), delay_s=exc.retry_after_s, claimer=claimer
            )
        except TransientError as exc:
            await outcomes.finish_failed(row=row, error=str(exc), retryable=True, claimer=claimer)
        except BadResponse as exc:
            await outcomes.finish_failed(row=row, error=str(exc), retryable=False, claimer=claimer)
        except Exception as exc:
            log.exception("delivery failed", delivery_id=row.delivery_id)
            error = f"{type(exc).__name__}: {exc}"
            await outcomes.finish_failed(row=row, error=error, retryable=False, claimer=claimer)
        else:
            await outcomes.finish_sent(row=row, claimer=claimer)
