"""How intake anonymises a complaint (the guarantees: :mod:`intake.erasure.service`), in the
caller's transaction, and stages ``complaint.erasure_requested`` for it: shared by a
customer's erasure, retention's, and the release of a legal hold."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from complaint_contracts.events import ErasureRequested
from complaint_runtime.database import UnitOfWork
from cryptography.fernet import InvalidToken

from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.service import record_step
from intake.db import Complaint
from intake.erasure.db import IntakeRecords
from intake.erasure.domain.anonymisation import (
    blank_history_data,
    erased_customer_ref,
    unusable_token_hash,
)

Reason = Literal["customer_request", "retention_expired"]


@dataclass(frozen=True)
class Order:
    """An erasure to apply to a complaint: its id, reason and requester (the event's
    actor)."""

    erasure_id: str
    reason: Reason
    actor: str


# A front end's kept answer is written in its complaint's transaction: well inside this.
ANSWER_WINDOW = timedelta(minutes=2)


async def erase_in_intake(
    uow: UnitOfWork,
    secrets_: Secrets,
    complaints: Sequence[Complaint],
    orders: Sequence[Order],
    *,
    now: datetime,
) -> None:
    """Anonymise the complaints in intake's tables and stage ``complaint.erasure_requested``
    for each complaint and erasure (id, reason) (carrying the customer reference it had, so
    every service finds the customer's data by it)."""
    if not complaints:
        return
    ids = [c.id for c in complaints]
    records = IntakeRecords(uow.session)
    for entry in await records.history_of(ids):
        entry.data = blank_history_data(entry.data)
    await records.blank_messages(ids)
    await records.delete_tracking_codes(ids)
    for complaint in complaints:
        await records.delete_page_answers(complaint.id)
        await _delete_front_end_answer(records, secrets_, complaint)
        customer_ref = complaint.customer_ref
        _anonymise(complaint, now=now)
        for order in orders:
            event = ErasureRequested(
                complaint_id=complaint.id,
                erasure_id=order.erasure_id,
                customer_ref=customer_ref,
                reason=order.reason,
                requested_at=now,
                actor=order.actor,
            )
            data = {"erasure_id": order.erasure_id, "reason": order.reason}
            record_step(uow, event, complaint_id=complaint.id, now=now, data=data)


def _anonymise(complaint: Complaint, *, now: datetime) -> None:
    """Overwrite the row's personal data and texts; its KPIs' facts stay."""
    complaint.customer_ref = erased_customer_ref()
    complaint.customer_id = None
    complaint.customer_name_enc = None
    complaint.phone_enc = None
    complaint.email_enc = None
    complaint.phone_hash = None
    complaint.email_hash = None
    complaint.masked_phone = None
    complaint.masked_email = None
    complaint.subject = ""
    complaint.description = ""
    complaint.order_ref = None
    complaint.attachments = []
    complaint.extra_metadata = {}
    complaint.timezone = None
    complaint.tracking_token_hash = unusable_token_hash()
    complaint.tracking_token_enc = None
    complaint.updated_at = now


async def _delete_front_end_answer(
    records: IntakeRecords, secrets_: Secrets, complaint: Complaint
) -> None:
    """The answer kept for the front end's Idempotency-Key holds the tracking token: the
    record has no complaint column, so the answers written around the complaint's receipt
    are opened and the one naming it deleted."""
    for record in await records.front_end_answers_near(complaint.received_at, window=ANSWER_WINDOW):
        try:
            answer = json.loads(secrets_.unseal(str(record.response.get("sealed", "")).encode()))
        except (InvalidToken, ValueError, TypeError):
            continue  # not ours to read (a key long rotated out): it opens nothing either
        if isinstance(answer, dict) and answer.get("id") == complaint.id:
            await records.delete_answer(record)
