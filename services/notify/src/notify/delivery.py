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
import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from complaint_runtime.consumer import TransientError
from complaint_runtime.database import Database, utcnow

from notify import metrics
from notify.channels import Channel, OutgoingEmail, SendError, safe_error
from notify.config import NotifySettings
from notify.contacts import BadResponse, InternalApi, NotFound
from notify.db import Delivery, DeliveryRepository
from notify.domain.directory import StaffDirectory
from notify.domain.messages import LookedUp, message_context
from notify.domain.recipients import looks_like_address, masked_address, recipient_hash
from notify.domain.retry import after_failure, backoff_s
from notify.rendering import Renderer
from notify.service import stage_failed, stage_sent

log = structlog.get_logger(__name__)

UNCERTAIN_ERROR = "outcome unknown after a crash"
RECOVERY_EVERY_S = 30.0
METRICS_EVERY_S = 10.0


def _due(last: datetime | None, now: datetime, every_s: float) -> bool:
    return last is None or (now - last).total_seconds() >= every_s


class Skip(Exception):
    """Nobody to send to (no address, no directory entry): recorded, not retried."""


def recipient_hash_key(settings: NotifySettings) -> bytes:
    if settings.notify_recipient_hash_key:
        return settings.notify_recipient_hash_key.encode()
    # A sub-key of the shared secret, labelled so it is useless for signing tokens.
    secret = settings.auth_jwt_secret.encode()
    return hmac.new(secret, b"notify recipient hash key", hashlib.sha256).digest()


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
        self._directory = directory
        self._renderer = renderer or Renderer()
        self._clock = clock
        self._hash_key = recipient_hash_key(settings)
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
        try:
            email = await self._prepare(row)
            if not await self._start_transmitting(row):
                return  # declared abandoned meanwhile and handed to another process
            await self._channel.send(email)
        except Skip as exc:
            await self._finish_skipped(row, str(exc))
        except NotFound as exc:
            await self._finish_skipped(row, f"nothing to send to: {exc}")
        except SendError as exc:
            if exc.uncertain:
                await self._finish_uncertain(row, str(exc))
            else:
                await self._finish_failed(row, str(exc), retryable=exc.retryable)
        except TransientError as exc:
            await self._finish_failed(row, str(exc), retryable=True)
        except BadResponse as exc:
            await self._finish_failed(row, str(exc), retryable=False)
        except Exception as exc:
            log.exception("delivery failed", delivery_id=row.delivery_id)
            await self._finish_failed(row, f"{type(exc).__name__}: {exc}", retryable=False)
        else:
            await self._finish_sent(row, email)

    async def _prepare(self, row: Delivery) -> OutgoingEmail:
        """Resolve the recipient just in time and render the message; nothing is stored."""
        contact = await self._api.customer_contact(row.complaint_id)
        if row.recipient_role == "customer":
            address, name, language = contact.email, contact.name, contact.language
            if not looks_like_address(address):
                raise Skip("the customer has no e-mail address (other channels come later)")
        else:
            user_id = row.recipient_user
            if row.recipient_role == "team_lead":
                if contact.team is None:
                    raise Skip("the complaint has no team yet")
                user_id = self._directory.team_lead_of(contact.team)
                if user_id is None:
                    raise Skip(f"no team lead configured for team {contact.team}")
                row.recipient_user = user_id
            member = self._directory.user(user_id)
            if member is None:
                raise Skip(f"user {user_id} is not in the staff directory")
            address, name, language = member.email, member.name, member.language
            if not looks_like_address(address):
                raise Skip(f"user {user_id} has no e-mail address in the staff directory")
        assert address is not None
        row.recipient_masked = masked_address(address)
        row.recipient_key = recipient_hash(key=self._hash_key, address=address)
        row.language = language if language in ("zh-CN", "en") else "zh-CN"
        survey_url = survey_expires = None
        if row.template == "survey_invitation":
            link = await self._api.survey_link(str(row.context.get("request_id")))
            survey_url, survey_expires = link.survey_url, link.expires_at
        context = message_context(
            template=row.template,
            stored=row.context,
            looked_up=LookedUp(
                reference=contact.reference,
                recipient_name=name,
                language=row.language,
                team=contact.team,
                tracking_url=contact.tracking_url,
                survey_url=survey_url,
                survey_expires_at=survey_expires,
            ),
            expected_first_response_h=self._settings.notify_expected_first_response_h,
            zone=self._settings.notify_display_timezone,
        )
        message = self._renderer.render(
            template=row.template, language=row.language, context=context
        )
        return OutgoingEmail(
            delivery_id=row.delivery_id,
            to_address=address.strip(),
            to_name=name,
            subject=message.subject,
            body=message.body,
            template=row.template,
            language=row.language,
        )

    def _resolved(self, row: Delivery) -> dict[str, object]:
        return {
            "recipient_user": row.recipient_user,
            "recipient_masked": row.recipient_masked,
            "recipient_key": row.recipient_key,
            "language": row.language,
        }

    async def _finish_sent(self, row: Delivery, email: OutgoingEmail) -> None:
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
        async with self._database.unit_of_work() as uow:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=self.instance_id, now=now, values=values
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
        self._after(row, status, done is not None)

    async def _finish_skipped(self, row: Delivery, reason: str) -> None:
        now = self._clock()
        error = safe_error(f"skipped: {reason}")
        values = {**self._resolved(row), "status": "skipped", "last_error": error}
        async with self._database.unit_of_work() as uow:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id,
                claimer=self.instance_id,
                now=now,
                values={**values, "finished_at": now},
            )
            if done is not None:
                stage_failed(uow=uow, row=done, error=error, final=True, now=now)
        self._after(row, "skipped", done is not None, reason=error)

    async def _finish_uncertain(self, row: Delivery, error: str) -> None:
        now = self._clock()
        values = {**self._resolved(row), "status": "uncertain", "last_error": safe_error(error)}
        async with self._database.unit_of_work() as uow:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id,
                claimer=self.instance_id,
                now=now,
                values={**values, "finished_at": now, "channel": self._channel.name},
            )
            if done is not None:
                stage_failed(uow=uow, row=done, error=error, final=True, now=now)
        if done is not None:
            metrics.UNCERTAIN.inc()
        self._after(row, "uncertain", done is not None, reason=safe_error(error))

    async def _finish_failed(self, row: Delivery, error: str, *, retryable: bool) -> None:
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
        async with self._database.unit_of_work() as uow:
            done = await DeliveryRepository(uow.session).finish(
                delivery_id=row.delivery_id, claimer=self.instance_id, now=now, values=values
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
        outcome = "retry" if decision == "retry" else "failed"
        self._after(row, outcome, done is not None, reason=error)

    def _after(self, row: Delivery, outcome: str, recorded: bool, reason: str = "") -> None:
        if not recorded:
            # Declared uncertain by another process while this one was sending.
            log.warning(
                "delivery no longer held; outcome not recorded", delivery_id=row.delivery_id
            )
            return
        metrics.OUTCOMES.labels(outcome).inc()
        log.info(
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
