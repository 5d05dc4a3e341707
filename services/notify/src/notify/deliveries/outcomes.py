"""Recording how a delivery attempt ended: the row's final (or retry) state and the
``notification.sent`` / ``notification.failed`` event staged with it in one transaction
(a deferral, a message not ready yet, stages none: it is no attempt).

Every update is conditional on the claim (``claimer``): a row declared uncertain by
another process meanwhile is left alone and the outcome is only logged.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from complaint_contracts.events.notify import FailureReason
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.group_commit import GroupCommitter

from notify import metrics
from notify.adapters.channels import safe_error
from notify.adapters.outgoing import SendReceipt
from notify.config import NotifySettings
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.deliveries.domain.retry import after_failure, next_attempt
from notify.deliveries.service import stage_failed, stage_sent
from notify.webhooks.domain.schedule import RandomSource

log = structlog.get_logger(__name__)


class OutcomeRecorder:
    """Finishes claimed deliveries: sent (or logged), skipped, uncertain, failed or retry."""

    def __init__(
        self,
        *,
        database: Database,
        settings: NotifySettings,
        email_channel: str,
        clock: Callable[[], datetime],
        random_source: RandomSource = random.random,
    ):
        # Outcomes of a round's concurrent sends share transactions: each is recorded only
        # after its own send, and a crash before the shared commit leaves its row
        # ``sending`` (reported uncertain, never resent), as a crash during the send would.
        self._writer = GroupCommitter(database, max_batch=64)
        self._settings = settings
        self._email_channel = email_channel  # "log": e-mail is only logged, never sent
        self._clock = clock
        self._random = random_source

    async def aclose(self) -> None:
        await self._writer.aclose()

    def _resolved(self, row: Delivery) -> dict[str, object]:
        """The recipient preparation resolved on the row (kept whatever the outcome)."""
        return {
            "recipient_user": row.recipient_user,
            "recipient_masked": row.recipient_masked,
            "recipient_key": row.recipient_key,
            "language": row.language,
            "channel": row.channel,
        }

    async def finish_sent(self, *, row: Delivery, claimer: str, receipt: SendReceipt) -> None:
        """The channel took the message: ``sent`` (``logged`` for the log-only e-mail)."""
        now = self._clock()
        logged = receipt.channel == "email" and self._email_channel == "log"
        status = "logged" if logged else "sent"
        values = {
            **self._resolved(row),
            "status": status,
            "channel": "log" if logged else receipt.channel,
            "provider_message_id": receipt.provider_message_id,
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
                values={**values, "finished_at": now},
            )
            if done is not None:
                stage_failed(uow=uow, row=done, error=error, final=True, now=now)
            return done

        done = await self._writer.write(record)
        if done is not None:
            metrics.UNCERTAIN.inc()
        self._after(row, "uncertain", done is not None, reason=safe_error(error))

    async def finish_failed(
        self,
        *,
        row: Delivery,
        error: str,
        retryable: bool,
        claimer: str,
        code: FailureReason | None = None,
        fallback: bool = False,
    ) -> None:
        """A failed attempt. Retryable: tried again with full jitter while the retry window
        is open (NOTIFY_RETRY_WINDOW_S from the first send). ``fallback``: the chosen
        channel refused it for good (or has no version of it); then, or once a retryable
        failure outlasted the window, a customer's next channel is tried at once (the row
        remembers the failed channel; one notice per event and recipient across channels).
        Else final."""
        now = self._clock()
        settings = self._settings
        error = safe_error(error)
        values: dict[str, object] = {**self._resolved(row), "last_error": error}
        failed = list(row.failed_channels or ())
        decision = after_failure(
            retryable=retryable,
            first_attempt_at=row.first_attempt_at,
            now=now,
            window_s=settings.notify_retry_window_s,
        )
        # A channel failed for good: it refused the message, or it kept failing for the
        # whole retry window. A customer's next channel may carry it.
        fallback = (
            (fallback or (retryable and decision == "final"))
            and row.recipient_role == "customer"
            and row.channel is not None
            and row.channel not in failed
        )
        next_at: datetime | None = None
        if fallback:
            next_at = now
            values |= {
                "status": "pending",
                "next_attempt_at": now,
                "claimed_by": None,
                "failed_channels": [*failed, row.channel],
            }
        elif decision == "retry":
            window_end = (row.first_attempt_at or now) + timedelta(
                seconds=settings.notify_retry_window_s
            )
            next_at = next_attempt(
                attempts=row.attempts,
                now=now,
                base_s=settings.notify_retry_backoff_s,
                cap_s=settings.notify_retry_backoff_max_s,
                random=self._random,
                not_after=window_end,
            )
            values |= {"status": "pending", "next_attempt_at": next_at, "claimed_by": None}
        else:
            values |= {"status": "failed", "finished_at": now}
        final = next_at is None

        async def record(uow: UnitOfWork) -> Delivery | None:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=claimer, now=now, values=values
            )
            if done is not None:
                stage_failed(
                    uow=uow,
                    row=done,
                    error=error,
                    final=final,
                    now=now,
                    next_attempt_at=next_at,
                    reason=code,
                )
            return done

        done = await self._writer.write(record)
        outcome = "failed" if final else ("fallback" if fallback else "retry")
        self._after(row, outcome, done is not None, reason=error)

    async def finish_waiting(self, *, row: Delivery, reason: str, claimer: str) -> None:
        """intake or feedback was unreachable (nothing was sent): back to ``pending`` for a
        jittered wait of at most NOTIFY_DEPENDENCY_RETRY_MAX_S, however long they are away;
        the retry window does not run (requirements §8: never abandoned to an outage)."""
        now = self._clock()
        settings = self._settings
        next_at = next_attempt(
            attempts=row.attempts,
            now=now,
            base_s=min(settings.notify_retry_backoff_s, settings.notify_dependency_retry_max_s),
            cap_s=settings.notify_dependency_retry_max_s,
            random=self._random,
        )
        values: dict[str, object] = {
            **self._resolved(row),
            "status": "pending",
            "next_attempt_at": next_at,
            "claimed_by": None,
            "last_error": safe_error(f"waiting: {reason}"),
        }

        async def record(uow: UnitOfWork) -> Delivery | None:
            return await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=claimer, now=now, values=values
            )

        done = await self._writer.write(record)
        self._after(row, "waiting", done is not None, reason=safe_error(reason))

    async def finish_deferred(
        self,
        *,
        row: Delivery,
        reason: str,
        delay_s: float,
        claimer: str,
        until: datetime | None = None,
    ) -> None:
        """Not ready yet (an acknowledgement waiting for its SLA due times, an SMS held for
        the customer's quiet hours): back to ``pending`` for ``delay_s`` (or ``until``),
        nothing sent, no event, and the claim's attempt given back: waiting is no attempt."""
        now = self._clock()
        values: dict[str, object] = {
            **self._resolved(row),
            "status": "pending",
            "next_attempt_at": until or now + timedelta(seconds=delay_s),
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
