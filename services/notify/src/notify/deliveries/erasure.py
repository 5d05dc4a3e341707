"""Erasure (§10) in notify: intake's ``complaint.erasure_requested`` stops every message to
the complaint's customer that has not gone yet, blanks what the delivery log holds of the
customer and of the complaint's texts, and confirms it with
``notification.erasure_completed``, all in the consumer's transaction.

What goes: every delivery's message facts (``context``: texts, names, references) and,
for the customer's deliveries, the masked address, the hashed recipient key and the errors
(an SMTP answer, an SMS receipt may name the address); the complaint's reference and
assignee among notify's facts of it (``notify.teams``). What stays: templates, roles,
staff recipients, statuses, attempts and times. A customer's delivery still ``pending``
or ``preparing`` (a delivery loop claimed it and has not sent it) is ``skipped``: the
loop's conditional updates no longer match it, so it is never sent. One ``sending`` (its
send under way) becomes ``uncertain``: it may have gone, and the loop's outcome would
otherwise write the address back. Each of those is reported with ``notification.failed``
naming no one.

Every request is confirmed, once per event (the consumer drops a redelivered one by its
id), also when the complaint was erased before (a new erasure id) or notify never had it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from complaint_contracts import topics
from complaint_contracts.events import ErasureRequested, NotificationErasureCompleted
from complaint_runtime.database import UnitOfWork

from notify.deliveries.db import Delivery, DeliveryRepository
from notify.deliveries.service import (
    SOURCE,
    UNCERTAIN_ERROR,
    stage_failed,
    write_staged_deliveries,
)
from notify.replies.service import erase_replies
from notify.teams import service as teams

CUSTOMER: Final = "customer"
ERASED: Final = "erased"  # what the log shows as an erased customer's address
NOT_SENT: Final = "skipped: the customer's data was erased"
MAYBE_SENT: Final = "erased while being sent: the outcome is unknown"
ERROR_ERASED: Final = "failed (the error was erased with the customer's data)"
# Errors of our own words, kept; any other may quote the server's answer about the address.
_OWN_ERRORS: Final = (NOT_SENT, MAYBE_SENT, ERROR_ERASED, UNCERTAIN_ERROR)
# What a status becomes at the erasure, and why; finished ones stay as they are.
_STOPPED: Final = {"pending": NOT_SENT, "preparing": NOT_SENT, "sending": MAYBE_SENT}


async def erase_complaint(*, uow: UnitOfWork, erasure: ErasureRequested, now: datetime) -> str:
    """Stop and blank the complaint's deliveries to its customer, blank every delivery's
    message facts, and stage the confirmation in the same transaction; its event id.
    Deliveries staged earlier in the transaction are written first, so it sees them."""
    await write_staged_deliveries(uow)
    rows = await DeliveryRepository(uow.session).all_of_complaint_locked(erasure.complaint_id)
    for row in rows:
        row.context = {}
        row.updated_at = now
        if row.recipient_role == CUSTOMER:
            _erase_customer_delivery(uow, row, now=now)
    await teams.forget_customer_links(uow=uow, complaint_id=erasure.complaint_id)
    await erase_replies(uow.session, complaint_id=erasure.complaint_id)
    # SQLite (make up): the log's page images of what was erased go once this commits.
    uow.truncate_wal_after_commit()
    confirmed = NotificationErasureCompleted(
        complaint_id=erasure.complaint_id, erasure_id=erasure.erasure_id, erased_at=now
    )
    return uow.add_event(
        confirmed,
        topic=topics.NOTIFY.name,
        source=SOURCE,
        subject=erasure.complaint_id,
        time=now,
    )


def _erase_customer_delivery(uow: UnitOfWork, row: Delivery, *, now: datetime) -> None:
    # The address first: the failure event below shows the row's recipient.
    row.recipient_masked, row.recipient_key = ERASED, None
    row.receipt_error = None  # a carrier's answer about the number
    stopped = _STOPPED.get(row.status)
    if stopped is None:  # finished: its outcome stays, what it said of the address goes
        if row.last_error and row.last_error not in _OWN_ERRORS:
            row.last_error = ERROR_ERASED
        return
    row.status = "skipped" if stopped == NOT_SENT else "uncertain"
    row.last_error, row.finished_at = stopped, now
    row.attempts = max(row.attempts, 1)
    stage_failed(uow=uow, row=row, error=stopped, final=True, now=now)
