"""Notify's use cases over the delivery log: recording what an event causes and honouring an
erasure (in a consumer's transaction), listing a complaint's deliveries (the API), claiming,
starting and recovering deliveries (the delivery loop, ``loop.py``), and the events that
report a delivery. Sending itself happens in the delivery loop; how an attempt ended is
recorded by ``outcomes.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast, get_args

import structlog
from complaint_contracts import topics
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import NotificationFailed, NotificationSent
from complaint_contracts.events.notify import FailureReason, NotificationChannel
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Conflict, NotFound
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from notify import metrics
from notify.adapters.channels import safe_error
from notify.deliveries import releases
from notify.deliveries.db import (
    Delivery,
    DeliveryRepository,
    StagedDeliveries,
    insert_new,
    staged_deliveries,
    start_staging,
)
from notify.deliveries.releases import ACKNOWLEDGEMENT, first_look_at
from notify.messages.domain.planning import plan_deliveries

log = structlog.get_logger(__name__)

SOURCE = "notify"
EMAIL = "email"
CONTRACT_CHANNELS = frozenset(get_args(NotificationChannel))
UNCERTAIN_ERROR = "outcome unknown after a crash"
RECOVERY_LIMIT = 1000  # abandoned rows recovered per pass


def _planned_rows(
    envelope: Envelope,
    *,
    now: datetime,
    escalation_group: Sequence[str],
    ack_wait_s: float,
    team_chat: bool = False,
) -> list[dict[str, Any]]:
    """The ``pending`` rows of the notifications an event causes. The acknowledgement is
    first looked at after a short wait for its SLA clocks (``ack_wait_s``, see
    :mod:`notify.deliveries.releases`)."""
    return [
        {
            "delivery_id": str(uuid.uuid4()),
            "complaint_id": envelope.subject,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "template": planned.template,
            "recipient_role": planned.recipient_role,
            "recipient_user": planned.recipient_user,
            "recipient_slot": planned.slot,
            "context": planned.context,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": (
                first_look_at(now, wait_s=ack_wait_s)
                if planned.template == ACKNOWLEDGEMENT
                else now
            ),
            "created_at": now,
            "updated_at": now,
        }
        for planned in plan_deliveries(
            envelope.data, escalation_group=escalation_group, team_chat=team_chat
        )
    ]


def _write(
    session: Session,
    uow: UnitOfWork,
    rows: Sequence[dict[str, Any]],
    on_new: Mapping[str, Callable[[], None]],
) -> int:
    """Insert ``rows`` (one statement), skipping messages already recorded; for each new
    row its ``on_new`` callback is called after the commit. Returns how many were new."""
    new = insert_new(session, rows)
    releases.forget_preloaded(session, {row["complaint_id"] for row in rows})
    for callback in dict.fromkeys(on_new[i] for i in new if i in on_new):
        uow.after_commit(callback)
    return len(new)


def _staged(uow: UnitOfWork) -> StagedDeliveries:
    """This unit of work's staged deliveries: written just before it commits (SQLAlchemy's
    ``before_commit``, inside the transaction; also before a savepoint is released, which
    only writes them earlier), dropped when it rolls back."""
    staged = staged_deliveries(uow.session)
    if staged is not None:
        return staged
    staged = start_staging(uow.session)

    def write_before_commit(session: Session) -> None:
        if staged.rows:
            _write(session, uow, staged.rows, staged.on_new)
            staged.clear()

    def drop_on_rollback(_session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            staged.clear()

    event.listen(uow.session.sync_session, "before_commit", write_before_commit)
    event.listen(uow.session.sync_session, "after_soft_rollback", drop_on_rollback)
    return staged


async def stage_deliveries(
    *,
    uow: UnitOfWork,
    envelope: Envelope,
    now: datetime,
    escalation_group: Sequence[str] = (),
    ack_wait_s: float = 0.0,
    on_new: Callable[[], None] | None = None,
    team_chat: bool = False,
) -> None:
    """Record the notifications an event causes as ``pending`` rows, written with the
    unit of work; nothing is sent here. ``on_new`` is called after the commit if any of
    them was new (a redelivered event, or a copy under the same id, adds none, thanks to
    the unique (event, template, recipient role, recipient slot)).

    The consumer applies a whole batch in one transaction: the rows its handlers plan are
    kept in the session and written in one ``INSERT ... ON CONFLICT DO NOTHING`` just
    before the commit, instead of one statement per row. Inside a savepoint (the batch
    applied record by record after a failure: a record may roll back alone) they are
    written at once, and roll back with it. ``escalation_group`` are the members told one
    by one about a level-3 escalation; ``ack_wait_s``: see :func:`_planned_rows`."""
    rows = _planned_rows(
        envelope,
        now=now,
        escalation_group=escalation_group,
        ack_wait_s=ack_wait_s,
        team_chat=team_chat,
    )
    if not rows:
        return
    if uow.session.in_nested_transaction():
        callbacks = dict.fromkeys((row["delivery_id"] for row in rows), on_new) if on_new else {}
        await uow.session.run_sync(_write, uow, rows, callbacks)
        return
    _staged(uow).add(rows, on_new=on_new)


async def write_staged_deliveries(uow: UnitOfWork) -> int:
    """Write the deliveries staged so far in this unit of work now (before a use case that
    reads the delivery log in the same transaction); returns how many were new."""
    staged = staged_deliveries(uow.session)
    if staged is None or not staged.rows:
        return 0
    new = await uow.session.run_sync(_write, uow, staged.rows, staged.on_new)
    staged.clear()
    return new


async def record_deliveries(
    *,
    uow: UnitOfWork,
    envelope: Envelope,
    now: datetime,
    escalation_group: Sequence[str] = (),
    ack_wait_s: float = 0.0,
    team_chat: bool = False,
) -> int:
    """:func:`stage_deliveries`, written at once: returns how many rows were new (0 for a
    redelivered event)."""
    rows = _planned_rows(
        envelope,
        now=now,
        escalation_group=escalation_group,
        ack_wait_s=ack_wait_s,
        team_chat=team_chat,
    )
    if not rows:
        return 0
    return await uow.session.run_sync(_write, uow, rows, {})


async def deliveries_of_complaint(
    *, database: Database, complaint_id: str, limit: int
) -> list[Delivery]:
    """A complaint's deliveries in the order they were recorded (at most ``limit``)."""
    async with database.sessions() as session:
        return await DeliveryRepository(session).of_complaint(complaint_id, limit=limit)


async def claim_due(
    *, database: Database, now: datetime, limit: int, claimer: str
) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries for ``claimer`` (``preparing``, attempts + 1);
    the claim is committed on return, before anything is sent."""
    async with database.unit_of_work() as uow:
        return await DeliveryRepository(uow.session).claim_due(
            now=now, limit=limit, claimer=claimer
        )


async def start_transmitting(
    *,
    database: Database,
    delivery_id: str,
    claimer: str,
    now: datetime,
    resolved: dict[str, Any] | None = None,
) -> bool:
    """Commit ``sending`` for one claimed delivery right before its send (with the channel
    and masked recipient chosen, ``resolved``); False when ``claimer`` no longer holds it
    (declared abandoned meanwhile): then it is not sent."""
    async with database.unit_of_work() as uow:
        return await DeliveryRepository(uow.session).start_transmitting(
            delivery_id=delivery_id, claimer=claimer, now=now, resolved=resolved
        )


async def recover_abandoned(
    *, database: Database, claimer: str, now: datetime, lease_s: float
) -> int:
    """Rows another (dead) process left for longer than the lease: ``preparing`` ones were
    never sent and go back to ``pending``; ``sending`` ones may have been, so they become
    ``uncertain``, are reported with a final ``notification.failed`` and are never resent.
    Returns how many became uncertain."""
    async with database.unit_of_work() as uow:
        found = await DeliveryRepository(uow.session).abandoned_sending(
            not_claimer=claimer,
            claimed_before=now - timedelta(seconds=lease_s),
            limit=RECOVERY_LIMIT,
        )
        uncertain = [row for row in found if row.status == "sending"]
        for row in found:
            if row.status == "preparing":
                row.status = "pending"
                row.claimed_by = None
                row.updated_at = now
        for row in uncertain:
            row.status = "uncertain"
            row.last_error = UNCERTAIN_ERROR
            row.finished_at = now
            row.updated_at = now
            stage_failed(uow=uow, row=row, error=UNCERTAIN_ERROR, final=True, now=now)
    for row in uncertain:
        metrics.UNCERTAIN.inc()
        metrics.OUTCOMES.labels("uncertain").inc()
        log.warning(
            "delivery outcome unknown after a crash; not resent",
            delivery_id=row.delivery_id,
            complaint_id=row.complaint_id,
            template=row.template,
            claimed_by=row.claimed_by,
        )
    return len(uncertain)


async def count_by_status(*, database: Database) -> dict[str, int]:
    """How many deliveries the log holds in each status (every status, 0 included)."""
    async with database.sessions() as session:
        return await DeliveryRepository(session).count_by_status()


def contract_channel(row: Delivery) -> NotificationChannel:
    """The row's channel as the contract names it (e-mail before one was chosen)."""
    channel = row.channel if row.channel in CONTRACT_CHANNELS else EMAIL
    return cast(NotificationChannel, channel)


RETRYABLE_BY_ADMIN = frozenset({"failed", "skipped"})


async def deliveries_with_status(
    *, database: Database, status: str, limit: int, before: datetime | None = None
) -> list[Delivery]:
    """The log's deliveries in one status (e.g. every ``failed`` one), newest first."""
    async with database.sessions() as session:
        return await DeliveryRepository(session).with_status(status, limit=limit, before=before)


async def retry_delivery(*, database: Database, delivery_id: str, now: datetime) -> Delivery:
    """An administrator sends a failed (or skipped) delivery again: back to ``pending`` now,
    with a fresh retry window and every channel tried anew. An ``uncertain`` one is refused:
    it may have reached the recipient, so repeating it is a person's decision to make
    outside notify (the delivery log says so); others are not finished yet or went out."""
    async with database.unit_of_work() as uow:
        row = await DeliveryRepository(uow.session).get_locked(delivery_id)
        if row is None:
            raise NotFound(f"There is no delivery {delivery_id}.")
        if row.status not in RETRYABLE_BY_ADMIN:
            raise Conflict(
                f"Delivery {delivery_id} is {row.status}: only failed or skipped deliveries "
                "are sent again"
                + (
                    " (an uncertain one may have reached the recipient)."
                    if row.status == "uncertain"
                    else "."
                )
            )
        row.status = "pending"
        row.next_attempt_at = now
        row.first_attempt_at = None
        row.failed_channels = None
        row.claimed_by = None
        row.finished_at = None
        row.last_error = None
        row.updated_at = now
    log.info("delivery retried by an administrator", delivery_id=delivery_id)
    return row


def shown_recipient(row: Delivery) -> str:
    """What events and the API show as the recipient: never a raw address."""
    return row.recipient_masked or row.recipient_user or row.recipient_role


def stage_sent(*, uow: UnitOfWork, row: Delivery, now: datetime) -> str:
    return uow.add_event(
        NotificationSent(
            complaint_id=row.complaint_id,
            notification_id=row.delivery_id,
            channel=contract_channel(row),
            template=row.template,
            language="en" if row.language == "en" else "zh-CN",
            recipient_role=row.recipient_role,
            recipient=shown_recipient(row),
            cause_event_id=row.event_id,
            cause_event_type=row.event_type,
            attempts=max(row.attempts, 1),
            sent_at=now,
        ),
        topic=topics.NOTIFY.name,
        source=SOURCE,
        subject=row.complaint_id,
        time=now,
    )


def stage_failed(
    *,
    uow: UnitOfWork,
    row: Delivery,
    error: str,
    final: bool,
    now: datetime,
    next_attempt_at: datetime | None = None,
    reason: FailureReason | None = None,
) -> str:
    return uow.add_event(
        NotificationFailed(
            complaint_id=row.complaint_id,
            notification_id=row.delivery_id,
            channel=contract_channel(row),
            template=row.template,
            recipient_role=row.recipient_role,
            recipient=shown_recipient(row),
            cause_event_id=row.event_id,
            cause_event_type=row.event_type,
            error=safe_error(error),
            attempts=max(row.attempts, 1),
            final=final,
            next_attempt_at=None if final else next_attempt_at,
            reason=reason,
            failed_at=now,
        ),
        topic=topics.NOTIFY.name,
        source=SOURCE,
        subject=row.complaint_id,
        time=now,
    )
