"""Notify's use cases that run in a consumer's transaction, and the events of the
delivery log. Sending itself happens later, in the delivery loop (``delivery.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from complaint_contracts import topics
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import NotificationFailed, NotificationSent
from complaint_runtime.database import UnitOfWork, utcnow

from notify.channels import safe_error
from notify.db import Delivery, DeliveryRepository
from notify.domain.planning import plan_deliveries

SOURCE = "notify"
EMAIL = "email"  # the only channel so far (SMS, webhooks and IM robots come later)


async def record_deliveries(
    *, uow: UnitOfWork, envelope: Envelope, escalation_group: Sequence[str] = ()
) -> int:
    """Record the notifications an event causes as ``pending`` rows; nothing is sent here.

    Returns how many rows were new: a redelivered event (or a copy under the same id)
    adds none, thanks to the unique (event, template, recipient role, recipient slot).
    ``escalation_group`` are the members told one by one about a level-3 escalation.
    """
    repository = DeliveryRepository(uow.session)
    now = utcnow()
    added = 0
    for planned in plan_deliveries(envelope.data, escalation_group=escalation_group):
        added += await repository.add_if_new(
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
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return added


async def erase_complaint(*, uow: UnitOfWork, complaint_id: str) -> int:
    """Honour an erasure: unsent messages to the customer are dropped, and what rows hold
    about the complaint beyond ids and statuses (masked address, message facts) is cleared."""
    repository = DeliveryRepository(uow.session)
    now = utcnow()
    for row in await repository.pending_of_complaint(complaint_id):
        if row.recipient_role == "customer":
            row.status = "skipped"
            row.last_error = "skipped: the customer's data was erased"
            row.finished_at = now
            row.attempts = max(row.attempts, 1)
            stage_failed(uow=uow, row=row, error=row.last_error, final=True, now=now)
    rows = await repository.of_complaint(complaint_id)
    for row in rows:
        row.context = {}
        row.recipient_masked = (
            "erased" if row.recipient_role == "customer" else row.recipient_masked
        )
        row.recipient_key = None if row.recipient_role == "customer" else row.recipient_key
        row.updated_at = now
    return len(rows)


def shown_recipient(row: Delivery) -> str:
    """What events and the API show as the recipient: never a raw address."""
    return row.recipient_masked or row.recipient_user or row.recipient_role


def stage_sent(*, uow: UnitOfWork, row: Delivery, now: datetime) -> str:
    return uow.add_event(
        NotificationSent(
            complaint_id=row.complaint_id,
            notification_id=row.delivery_id,
            channel=EMAIL,
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
) -> str:
    return uow.add_event(
        NotificationFailed(
            complaint_id=row.complaint_id,
            notification_id=row.delivery_id,
            channel=EMAIL,
            template=row.template,
            recipient_role=row.recipient_role,
            recipient=shown_recipient(row),
            cause_event_id=row.event_id,
            cause_event_type=row.event_type,
            error=safe_error(error),
            attempts=max(row.attempts, 1),
            final=final,
            next_attempt_at=None if final else next_attempt_at,
            failed_at=now,
        ),
        topic=topics.NOTIFY.name,
        source=SOURCE,
        subject=row.complaint_id,
        time=now,
    )
