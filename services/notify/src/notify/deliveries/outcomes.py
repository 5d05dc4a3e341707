"""Recording how a delivery attempt ended: the row's final (or retry) state and the
``notification.sent`` / ``notification.failed`` event staged with it in one transaction
(a deferral, a message not ready yet, stages none: it is no attempt).

Every update is conditional on the claim (``claimer``): a row declared uncertain by
another process meanwhile is left alone and the outcome is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from complaint_contracts.events.notify import FailureReason
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.group_commit import GroupCommitter

from notify import metrics
from notify.adapters.channels import Channel, safe_error
from notify.config import NotifySettings
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.deliveries.domain.retry import after_failure, backoff_s
from notify.deliveries.service import stage_failed, stage_sent

log = structlog.get_logger(__name__)


class OutcomeRecorder:
    """Finishes claimed deliveries: sent (or logged), skipped, uncertain, failed or retry."""

    def __init__(
        self,
        *,
        database: Database,
        settings: NotifySettings,
        channel: Channel,
        clock: Callable[[], datetime],
    ):
        # Outcomes of a round's concurrent sends share transactions: each is recorded only
        # after its own send, and a crash before the shared commit leaves its row
        # ``sending`` (reported uncertain, never resent), as a crash during the send would.
        self._writer = GroupCommitter(database, max_batch=64)
        self._settings = settings
        self._channel = channel
        self._clock = clock

    async def aclose(self) -> None:
        await self._writer.aclose()

    def _resolved(self, row: Delivery) -> dict[str, object]:
        """The recipient preparation resolved on the row (kept whatever the outcome)."""
        return {
            "recipient_user": row.recipient_user,
            "recipient_masked": row.recipient_masked,
            "recipient_key": row.recipient_key,
            "language": row.language,
        }

    async def finish_sent(self, *, row: Delivery, claimer: str) -> None:
        """The channel took the message: ``sent`` (``logged`` for the log-only channel)."""
        now = self._clock()
        logged = self._channel.name == "log"
        status = "logged" if logged else "sent"
        values = {
            **self._resolved(row),
            "status": status,
            "channel": self._channel.name,
            "finished_at": now,
            "last_error": None,
        }

        async def record(uow: UnitOfWork) -> Delivery | None:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=claimer, now=now, values=values
            )
            if done is not None:
                if logged:
                    # Nothing reached the recipient, and the log-only channel is not a
                    # channel of the contract: the delivery log says so honestly.
                    stage_failed(
                        uow=uow,
                        row=done,
                        error="not sent: NOTIFY_CHANNEL=log only logged a masked summary",
                        final=True,
                        now=now,
                    )
                else:
                    stage_sent(uow=uow, row=done, now=now)
            return done

        done = await self._writer.write(record)
        self._after(row, status, done is not None)

    async def finish_skipped(
        self, *, row: Delivery, reason: str, claimer: str, code: FailureReason | None = None
    ) -> None:
        """Nobody to send to: final, ``notification.failed`` with ``code`` as its reason."""
        now = self._clock()
        error = safe_error(f"skipped: {reason}")
        values = {**self._resolved(row), "status": "skipped", "last_error": error}

        async def record(uow: UnitOfWork) -> Delivery | None:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id,
                claimer=claimer,
                now=now,
                values={**values, "finished_at": now},
            )
            if done is not None:
                stage_failed(uow=uow, row=done, error=error, final=True, now=now, reason=code)
            return done

        done = await self._writer.write(record)
        self._after(row, "skipped", done is not None, reason=error)

    async def finish_uncertain(self, *, row: Delivery, error: str, claimer: str) -> None:
        now = self._clock()
        values = {**self._resolved(row), "status": "uncertain", "last_error": safe_error(error)}

        async def record(uow: UnitOfWork) -> Delivery | None:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id,
                claimer=claimer,
                now=now,
                values={**values, "finished_at": now, "channel": self._channel.name},
            )
            if done is not None:
                stage_failed(uow=uow, row=done, error=error, final=True, now=now)
            return done

        done = await self._writer.write(record)
        if done is not None:
            metrics.UNCERTAIN.inc()
        self._after(row, "uncertain", done is not None, reason=safe_error(error))

    async def finish_failed(
        self, *, row: Delivery, error: str, retryable: bool, claimer: str
    ) -> None:
        now = self._clock()
        settings = self._settings
        decision = after_failure(
            attempts=row.attempts, max_attempts=settings.notify_max_attempts, retryable=retryable
        )
        error = safe_error(error)
        values: dict[str, object] = {**self._resolved(row), "last_error": error}
        next_at: datetime | None = None
        if decision == "retry":
            delay = backoff_s(
                attempts=row.attempts,
                base_s=settings.notify_retry_backoff_s,
                cap_s=settings.notify_retry_backoff_max_s,
            )
            next_at = now + timedelta(seconds=delay)
            values |= {"status": "pending", "next_attempt_at": next_at, "claimed_by": None}
        else:
            values |= {"status": "failed", "finished_at": now}

        async def record(uow: UnitOfWork) -> Delivery | None:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=claimer, now=now, values=values
            )
            if done is not None:
                stage_failed(
                    uow=uow,
                    row=done,
                    error=error,
                    final=decision == "final",
                    now=now,
                    next_attempt_at=next_at,
                )
            return done

        done = await self._writer.write(record)
        outcome = "retry" if decision == "retry" else "failed"
        self._after(row, outcome, done is not None, reason=error)

    async def finish_deferred(
        self, *, row: Delivery, reason: str, delay_s: float, claimer: str
    ) -> None:
        """Not ready yet (an acknowledgement waiting for its SLA due times): back to
        ``pending`` for ``delay_s``, nothing sent, no event, and the claim's attempt given
        back, so waiting never counts towards NOTIFY_MAX_ATTEMPTS."""
        now = self._clock()
        values: dict[str, object] = {
            "status": "pending",
            "next_attempt_at": now + timedelta(seconds=delay_s),
            "claimed_by": None,
            "attempts": max(row.attempts - 1, 0),
            "last_error": safe_error(reason),
        }

        async def record(uow: UnitOfWork) -> Delivery | None:
            return await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=claimer, now=now, values=values
            )

        done = await self._writer.write(record)
        if done is None:
            self._after(row, "deferred", recorded=False)
            return
        metrics.OUTCOMES.labels("deferred").inc()
        log.debug("delivery deferred", delivery_id=row.delivery_id, reason=reason)

    def _after(self, row: Delivery, outcome: str, recorded: bool, reason: str = "") -> None:
        if not recorded:
            # Declared uncertain by another process while this one was sending.
            log.warning(
                "delivery no longer held; outcome not recorded", delivery_id=row.delivery_id
            )
            return
        metrics.OUTCOMES.labels(outcome).inc()
        # A sent message is the common case, logged at DEBUG (the delivery log and the
        # metrics keep it; the round's INFO line counts it); anything else at INFO.
        log.log(
            logging.DEBUG if outcome == "sent" else logging.INFO,
            "delivery attempt finished",
            delivery_id=row.delivery_id,
            complaint_id=row.complaint_id,
            template=row.template,
            recipient_role=row.recipient_role,
            recipient=row.recipient_masked,
            attempts=row.attempts,
            outcome=outcome,
            reason=reason or None,
        )
