"""The projection: intake folds every other service's events into the complaint's status,
its triage and assignment, the derived facts (§2: escalation level from sla-watch,
duplicate-of and repeat count from routing) and its history (in the consumer's unit of
work). The complaint's view shows the customer's part of it, to the customer and to the
front ends whose keys reach the complaint; the derived facts stay intake's own (notify's
contact card reads the duplicate link), staff read them in routing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintRecategorized,
    ComplaintTriaged,
)
from complaint_runtime.database import Database, UnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession

from intake.access.domain.callers import Viewer
from intake.complaints.domain.errors import ComplaintNotFound
from intake.db import Complaint, ComplaintRepository, HistoryEntry
from intake.erasure.domain.anonymisation import blank_history_data, is_erased
from intake.projection.domain.promises import ClockStep, Promise, promises_of
from intake.projection.domain.status import held_by_withdrawal, moves_forward, status_after
from intake.projection.domain.visibility import customer_data, visible_to_customer


async def preload_complaints(*, uow: UnitOfWork, envelopes: Sequence[Envelope]) -> None:
    """Read every complaint a consumer's batch is about (and the originals its duplicates
    name) in one query, before :func:`project_event` folds the events in one by one."""
    ids = [envelope.subject for envelope in envelopes]
    ids += [e.data.duplicate_of for e in envelopes if isinstance(e.data, ComplaintDuplicateLinked)]
    await ComplaintRepository(uow.session).load_many(ids)


async def project_event(*, uow: UnitOfWork, envelope: Envelope) -> None:
    """Fold another service's event into the complaint's status and history."""
    repository = ComplaintRepository(uow.session)
    complaint = await repository.get(envelope.subject)
    if complaint is None:
        raise LookupError(f"event {envelope.id} is about unknown complaint {envelope.subject}")
    data = envelope.data
    _apply_triage_and_assignment(complaint, data)
    derived = await _apply_derived_facts(repository, complaint, data)
    new_status = status_after(data)
    held = held_by_withdrawal(data, status=complaint.status, close_reason=complaint.close_reason)
    if (
        new_status
        and not held
        and moves_forward(status_at=complaint.status_at, event_time=envelope.time)
    ):
        complaint.status = new_status
        complaint.status_at = envelope.time
    complaint.updated_at = datetime.now(UTC)
    step = {**data.model_dump(mode="json"), **derived}
    uow.session.add(
        HistoryEntry(
            complaint_id=complaint.id,
            event_id=envelope.id,
            event_type=envelope.type,
            source=envelope.source,
            occurred_at=envelope.time,
            # An erased complaint keeps no text, also of events sent before the others
            # erased it (an agent's reply still on its way).
            data=blank_history_data(step) if is_erased(complaint.customer_ref) else step,
        )
    )


def _apply_triage_and_assignment(complaint: Complaint, data: EventData) -> None:
    if isinstance(data, ComplaintTriaged):
        complaint.category = data.category
        complaint.subcategory = data.subcategory
        complaint.priority = data.priority
        complaint.emotion = data.emotion
    elif isinstance(data, ComplaintRecategorized):
        complaint.category = data.new_category
        complaint.subcategory = data.new_subcategory
        complaint.priority = data.new_priority
        if data.new_emotion is not None:
            complaint.emotion = data.new_emotion
    elif isinstance(data, ComplaintAssigned):
        complaint.team = data.team
        complaint.assignee = data.assignee


async def _apply_derived_facts(
    repository: ComplaintRepository, complaint: Complaint, data: EventData
) -> dict[str, Any]:
    """Fold an event's derived facts into the complaint row.

    Returns what the history entry records beyond the event's own data: for a duplicate,
    the reference of the complaint that stands, looked up here because the event carries
    only its id and a customer knows complaints by reference.
    """
    if isinstance(data, ComplaintEscalated):
        # One producer, ordered per complaint on the sla topic: the latest level wins.
        complaint.escalation_level = data.level
    elif isinstance(data, ComplaintClosed):
        # Ordered per complaint on the routing topic: the latest closure wins. Whether the
        # complaint is closed now is its status; a customer message reads both.
        complaint.closed_at = data.closed_at
        complaint.close_reason = data.reason
    elif isinstance(data, ComplaintTriaged):
        complaint.repeat_count = data.repeat_count
    elif isinstance(data, ComplaintDuplicateLinked):
        original = await repository.get(data.duplicate_of)
        reference = original.reference if original is not None else None
        complaint.duplicate_of = data.duplicate_of
        complaint.duplicate_of_reference = reference
        return {"duplicate_of_reference": reference}
    return {}


@dataclass(frozen=True)
class HistoryStep:
    event_id: str
    type: str
    source: str
    time: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class LinkedComplaint:
    """Another complaint of the same customer this one is linked with (a follow-up)."""

    id: str
    reference: str
    status: str
    received_at: datetime

    @classmethod
    def of(cls, complaint: Complaint) -> LinkedComplaint:
        return cls(complaint.id, complaint.reference, complaint.status, complaint.received_at)


@dataclass(frozen=True)
class ComplaintView:
    """A complaint as the customer sees it, whether through its tracking token or a front
    end's key (staff read the internals through routing): its steps (with what staff told
    and asked the customer), not the internals; the complaints it is linked with (the one
    it follows up and those that follow it up); and the times promised to the customer (per
    metric, from the SLA clocks' events in the history, which the customer's steps omit)."""

    complaint: Complaint
    history: list[HistoryStep]
    related: LinkedComplaint | None = None
    follow_ups: tuple[LinkedComplaint, ...] = ()
    promises: Mapping[str, Promise] = field(default_factory=dict)


MAX_FOLLOW_UPS = 20


async def view_complaint(*, database: Database, viewer: Viewer, complaint_id: str) -> ComplaintView:
    """The complaint with its history, if the caller reaches it (else not found: a key's
    front end, channels and scopes decide, see :class:`Viewer`)."""
    async with database.sessions() as session:
        return await view_in(session, viewer=viewer, complaint_id=complaint_id)


async def view_in(session: AsyncSession, *, viewer: Viewer, complaint_id: str) -> ComplaintView:
    """:func:`view_complaint` in the caller's session (a page that reads more with it)."""
    repository = ComplaintRepository(session)
    complaint = await repository.get(complaint_id)
    if complaint is None or not viewer.may_view(complaint):
        raise ComplaintNotFound()
    history = await repository.history(complaint_id)
    related = None
    if complaint.related_complaint_id is not None:
        related = await repository.get(complaint.related_complaint_id)
    follow_ups = await repository.follow_ups(complaint_id, limit=MAX_FOLLOW_UPS)
    steps = [
        HistoryStep(
            event_id=entry.event_id,
            type=entry.event_type,
            source=entry.source,
            time=entry.occurred_at,
            data=customer_data(entry.event_type, entry.data, language=complaint.language),
        )
        for entry in history
        if visible_to_customer(entry.event_type)
    ]
    return ComplaintView(
        complaint,
        steps,
        related=LinkedComplaint.of(related) if related is not None else None,
        follow_ups=tuple(LinkedComplaint.of(c) for c in follow_ups),
        promises=promises_of(ClockStep(entry.event_type, entry.data) for entry in history),
    )
