"""Erasure (§10) in routing: intake's ``complaint.erasure_requested`` anonymises what
routing holds of the complaint's customer and confirms it with ``case.erasure_completed``,
all in the consumer's transaction (the confirmation commits with the anonymisation or not
at all).

What goes: the case file's texts, masked contacts, attachment urls, metadata values and
conversation (notes included), the copies of texts in the history, the case's customer
reference and resolution texts, the search terms (rebuilt from the reference), the
customer index's keyed hashes and fingerprint, the emotion streak, the tasks' notes and
the masked address in their detail, and, when the customer asked (not a complaint whose
retention ran out), their account manager. What stays: categories, priorities, states,
times, solution types, escalation levels, counts.

Every request is confirmed, once per event (the consumer drops a redelivered one by its
id), also when the case was erased before (a new erasure id) or routing never had it.
"""

from __future__ import annotations

from complaint_contracts import topics
from complaint_contracts.events import CaseErasureCompleted, ErasureRequested
from complaint_runtime.database import UnitOfWork

from routing.casefile import recording
from routing.cases.transitions import SOURCE, now_utc
from routing.duplicates import service as duplicates
from routing.staffing import service as staffing
from routing.tasks import service as tasks
from routing.triage import emotion_streaks


async def erase_complaint(*, uow: UnitOfWork, erasure: ErasureRequested) -> str:
    """Anonymise the complaint's customer in every table of routing and stage the
    confirmation in the same transaction; its event id. The case is locked first, as every
    change of a case does."""
    complaint_id = erasure.complaint_id
    await recording.erase(uow=uow, complaint_id=complaint_id)
    await duplicates.forget(uow=uow, complaint_id=complaint_id)
    await emotion_streaks.forget(uow=uow, complaint_id=complaint_id)
    await tasks.forget(uow=uow, complaint_id=complaint_id)
    if erasure.reason == "customer_request":
        await staffing.forget_customer(uow=uow, customer_ref=erasure.customer_ref)
    now = now_utc()
    # SQLite (make up): the log's page images of what was erased go once this commits.
    uow.truncate_wal_after_commit()
    confirmed = CaseErasureCompleted(
        complaint_id=complaint_id, erasure_id=erasure.erasure_id, erased_at=now
    )
    return uow.add_event(
        confirmed, topic=topics.ROUTING.name, source=SOURCE, subject=complaint_id, time=now
    )
