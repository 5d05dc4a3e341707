"""Erasure (§10) in feedback: intake's ``complaint.erasure_requested`` anonymises what
feedback holds of the complaint's customer and confirms it with
``feedback.erasure_completed`` in the consumer's transaction (the confirmation commits with
the anonymisation or not at all).

What goes: the survey and NPS comments (the customer's words), the complaint's customer
reference, what links its NPS requests to the customer (their id, a uuid5 of period and
reference, and the reference), and, when the customer asked (not a complaint past its
retention), their NPS opt-out and any round's cursor at them. What stays: answers (solved,
CSAT, NPS score), outcomes, statuses, channels, languages, references and times.
Confirmation requests, closures and rounds hold nothing else of the customer.

Every request is confirmed, once per event (the consumer drops a redelivered one by its
id), also when the complaint was erased before (a new erasure id) or feedback never had it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from complaint_contracts import topics
from complaint_contracts.events import ErasureRequested, FeedbackErasureCompleted
from complaint_runtime.database import UnitOfWork

from feedback.db import Requests
from feedback.nps import service as nps

SOURCE = "feedback"


async def erase(*, uow: UnitOfWork, erasure: ErasureRequested, now: datetime | None = None) -> str:
    """Anonymise the complaint's customer in every table of feedback and stage the
    confirmation in the same transaction; its event id."""
    now = now or datetime.now(UTC)
    complaint_id = erasure.complaint_id
    await Requests(uow.session).erase_comments(complaint_id=complaint_id)
    customer = erasure.customer_ref if erasure.reason == "customer_request" else None
    await nps.erase(uow=uow, complaint_id=complaint_id, customer_ref=customer)
    # SQLite (make up): the log's page images of what was erased go once this commits.
    uow.truncate_wal_after_commit()
    confirmed = FeedbackErasureCompleted(
        complaint_id=complaint_id, erasure_id=erasure.erasure_id, erased_at=now
    )
    return uow.add_event(
        confirmed, topic=topics.FEEDBACK.name, source=SOURCE, subject=complaint_id, time=now
    )
