"""Intake's use cases. Each runs in one transaction; events leave through the outbox.

Customer submissions (complaints, messages) are in :mod:`intake.submissions` and the keys in
:mod:`intake.secret_keys`; they are re-exported here, the use cases' one import path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
)
from complaint_runtime.database import Database, UnitOfWork

from intake.db import Complaint, ComplaintRepository, HistoryEntry
from intake.projection import apply_derived_facts
from intake.secret_keys import Secrets
from intake.submissions import (
    REFERENCE_ZONE,
    SOURCE,
    Submission,
    SubmissionResult,
    add_customer_message,
    hash_token,
    submit_complaint,
)

__all__ = [
    "REFERENCE_ZONE",
    "SOURCE",
    "STATUS_AFTER",
    "Secrets",
    "Submission",
    "SubmissionResult",
    "add_customer_message",
    "contact_card",
    "find_complaint",
    "hash_token",
    "project_event",
    "submit_complaint",
]


# The status each event means for the customer's view. Routing owns the state machine;
# feedback's events mark the steps routing records without an event of its own.
STATUS_AFTER: dict[type[EventData], str] = {
    ComplaintTriaged: "triaged",
    ComplaintAssigned: "assigned",
    ComplaintFirstResponseSent: "in_progress",
    ComplaintAwaitingCustomer: "awaiting_customer",
    ComplaintResumed: "in_progress",
    ComplaintResolved: "resolved",
    ComplaintConfirmationRequested: "awaiting_confirmation",
    ComplaintReopened: "reopened",
    ComplaintClosed: "closed",
}


async def project_event(*, uow: UnitOfWork, envelope: Envelope) -> None:
    """Fold another service's event into the complaint's status and history."""
    complaint = await ComplaintRepository(uow.session).get(envelope.subject)
    if complaint is None:
        raise LookupError(f"event {envelope.id} is about unknown complaint {envelope.subject}")
    data = envelope.data
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
    derived = await apply_derived_facts(session=uow.session, complaint=complaint, data=data)
    new_status = STATUS_AFTER.get(type(data))
    if isinstance(data, ComplaintAssigned) and data.handoff:
        new_status = None  # a transfer changes hands, not the state
    # Topics are ordered per complaint but not with each other: a status only moves
    # forward in event time, so a late event from another topic cannot roll it back.
    if new_status and (complaint.status_at is None or envelope.time >= complaint.status_at):
        complaint.status = new_status
        complaint.status_at = envelope.time
    complaint.updated_at = datetime.now(UTC)
    uow.session.add(
        HistoryEntry(
            complaint_id=complaint.id,
            event_id=envelope.id,
            event_type=envelope.type,
            source=envelope.source,
            occurred_at=envelope.time,
            data={**data.model_dump(mode="json"), **derived},
        )
    )


async def contact_card(
    *, database: Database, secrets_: Secrets, complaint_id: str, public_base_url: str
) -> dict[str, Any] | None:
    """Raw contacts for a notification about to be sent: the only way they leave intake."""
    async with database.sessions() as session:
        complaint = await ComplaintRepository(session).get(complaint_id)
    if complaint is None:
        return None
    token = secrets_.decrypt(complaint.tracking_token_enc)
    return {
        "complaint_id": complaint.id,
        "reference": complaint.reference,
        "name": secrets_.decrypt(complaint.customer_name_enc),
        "email": secrets_.decrypt(complaint.email_enc),
        "phone": secrets_.decrypt(complaint.phone_enc),
        "language": complaint.language,
        "preferred_channel": complaint.preferred_channel,
        "tracking_url": (
            f"{public_base_url}/v1/complaints/{complaint.id}?token={token}" if token else None
        ),
        "team": complaint.team,
        "assignee": complaint.assignee,
        "priority": complaint.priority,
    }


async def find_complaint(
    *, database: Database, complaint_id: str
) -> tuple[Complaint, list[HistoryEntry]] | None:
    async with database.sessions() as session:
        repository = ComplaintRepository(session)
        complaint = await repository.get(complaint_id)
        if complaint is None:
            return None
        return complaint, list(await repository.history(complaint_id))
