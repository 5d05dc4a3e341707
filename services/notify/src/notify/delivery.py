"""The delivery loop: claims pending deliveries, looks up recipients, renders and sends.

Never the same message twice
----------------------------
1. The consumer only records a ``pending`` row; UNIQUE (event, template, recipient role)
   makes a redelivered event add nothing.
2. The loop claims a batch (``preparing``, attempts + 1): contacts are looked up and the
   message rendered. Nothing has been sent, so a claim abandoned by a crash is handed back
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
from datetime import datetime, timedelta

import structlog
from complaint_runtime.consumer import TransientError
from complaint_runtime.database import Database, utcnow

from notify import metrics
from notify.channels import Channel, SendError, safe_error
from notify.config import NotifySettings
from notify.contacts import BadResponse, InternalApi, NotFound
from notify.db import Delivery, DeliveryRepository
from notify.delivery_outcomes import OutcomeRecorder
from notify.domain.directory import StaffDirectory
from notify.message_preparation import MessagePreparer, Skip, recipient_hash_key
from notify.rendering import Renderer
from notify.service import stage_failed

log = structlog.get_logger(__name__)

UNCERTAIN_ERROR = "outcome unknown after a crash"
RECOVERY_EVERY_S = 30.0
METRICS_EVERY_S = 10.0

__all__ = [
    "METRICS_EVERY_S",
    "RECOVERY_EVERY_S",
    "UNCERTAIN_ERROR",
    "DeliveryLoop",
    "Skip",
    "recipient_hash_key",
]


def _due(last: datetime | None, now: datetime, every_s: float) -> bool:
    return last is None or (now - last).total_seconds() >= every_s


class DeliveryLoop:
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
        instance_id: str | None = None,
    ):
        self._database = database
        self._settings = settings
        self._api = api
        self._channel = channel
        self._clock = clock
        self._preparer = MessagePreparer(
            settings=settings, api=api, directory=directory, renderer=renderer or Renderer()
        )
        self._outcomes = OutcomeRecorder(
            database=database, settings=settings, channel=channel, clock=clock
        )
        self.instance_id = instance_id or f"notify-{uuid.uuid4()}"
        self._stopping = asyncio.Event()
        self._last_recovery: datetime | None = None
        self._last_metrics: datetime | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        # A new claimer id per run: rows claimed by a run that crashed (here or in another
        # process) are then someone else's and become uncertain after the lease, never
        # resent.
        self.instance_id = f"notify-{uuid.uuid4()}"
        self._last_recovery = None
        while not self._stopping.is_set():
            claimed = await self.run_once()
            if claimed == 0:
                try:
                    await asyncio.wait_for(
                        self._stopping.wait(), timeout=self._settings.notify_poll_interval_s
                    )
                except TimeoutError:
                    pass
        await self._api.aclose()  # asked to stop: the process is shutting down

    async def run_once(self) -> int:
        """One round: recover abandoned claims when due, claim, send, record."""
        now = self._clock()
        if _due(self._last_recovery, now, RECOVERY_EVERY_S):
            await self.recover_abandoned()
            self._last_recovery = now
        async with self._database.unit_of_work() as uow:
            rows = await DeliveryRepository(uow.session).claim_due(
                now=now, limit=self._settings.notify_batch_size, claimer=self.instance_id
            )
        # The claim is committed here, before anything is sent.
        if rows:
            limit = asyncio.Semaphore(self._settings.notify_send_concurrency)

            async def deliver(row: Delivery) -> None:
                async with limit:
                    await self._deliver(row)

            results = await asyncio.gather(*(deliver(row) for row in rows), return_exceptions=True)
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    # Recording the outcome failed (database down): the row stays claimed
                    # and becomes uncertain after the lease; it is not sent again.
                    log.error(
                        "delivery outcome not recorded",
                        delivery_id=row.delivery_id,
                        error=safe_error(repr(result)),
                    )
        if _due(self._last_metrics, now, METRICS_EVERY_S):
            await self.refresh_metrics()
            self._last_metrics = now
        return len(rows)

    async def _start_transmitting(self, row: Delivery) -> bool:
        async with self._database.unit_of_work() as uow:
            return await DeliveryRepository(uow.session).start_transmitting(
                delivery_id=row.delivery_id, claimer=self.instance_id, now=self._clock()
            )

    async def recover_abandoned(self) -> int:
        """Rows another (dead) process left: ``preparing`` ones were never sent and go back
        to ``pending``; ``sending`` ones may have been, so they become uncertain and are
        never resent."""
        now = self._clock()
        lease = timedelta(seconds=self._settings.notify_sending_lease_s)
        async with self._database.unit_of_work() as uow:
            found = await DeliveryRepository(uow.session).abandoned_sending(
                not_claimer=self.instance_id, claimed_before=now - lease, limit=1000
            )
            rows = [row for row in found if row.status == "sending"]
            for row in found:
                if row.status == "preparing":
                    row.status = "pending"
                    row.claimed_by = None
                    row.updated_at = now
            for row in rows:
                row.status = "uncertain"
                row.last_error = UNCERTAIN_ERROR
                row.finished_at = now
                row.updated_at = now
                stage_failed(uow=uow, row=row, error=UNCERTAIN_ERROR, final=True, now=now)
        for row in rows:
            metrics.UNCERTAIN.inc()
            metrics.OUTCOMES.labels("uncertain").inc()
            log.warning(
                "delivery outcome unknown after a crash; not resent",
                delivery_id=row.delivery_id,
                complaint_id=row.complaint_id,
                template=row.template,
                claimed_by=row.claimed_by,
            )
        return len(rows)

    async def refresh_metrics(self) -> None:
        async with self._database.sessions() as session:
            counts = await DeliveryRepository(session).count_by_status()
        for status, count in counts.items():
            metrics.DELIVERIES.labels(status).set(count)

    async def _deliver(self, row: Delivery) -> None:
        outcomes = self._outcomes
        try:
            email = await self._preparer.prepare(row)
            if not await self._start_transmitting(row):
                return  # declared abandoned meanwhile and handed to another process
            await self._channel.send(email)
        except Skip as exc:
            await outcomes.finish_skipped(row, str(exc), claimer=self.instance_id)
        except NotFound as exc:
            await outcomes.finish_skipped(
                row, f"nothing to send to: {exc}", claimer=self.instance_id
            )
        except SendError as exc:
            if exc.uncertain:
                await outcomes.finish_uncertain(row, str(exc), claimer=self.instance_id)
            else:
                await outcomes.finish_failed(
                    row, str(exc), retryable=exc.retryable, claimer=self.instance_id
                )
        except TransientError as exc:
            await outcomes.finish_failed(row, str(exc), retryable=True, claimer=self.instance_id)
        except BadResponse as exc:
            await outcomes.finish_failed(row, str(exc), retryable=False, claimer=self.instance_id)
        except Exception as exc:
            log.exception("delivery failed", delivery_id=row.delivery_id)
            await outcomes.finish_failed(
                row, f"{type(exc).__name__}: {exc}", retryable=False, claimer=self.instance_id
            )
        else:
            await outcomes.finish_sent(row, email, claimer=self.instance_id)
