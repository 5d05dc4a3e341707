"""What the case file records, in the transaction of the change it belongs to: the texts
and customer of a received complaint with its search terms (triage), each customer
message (intake's event), each staff answer and question (the case commands), staff's
internal notes, and the erasure of all of it (§10).

Texts are stored as the events carry them (masked, redacted by intake) or as the commands
masked them; never a raw contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, Literal

from complaint_contracts.events import AttachmentRef, ComplaintReceived, CustomerMessageReceived
from complaint_runtime.database import UnitOfWork

from routing.casefile.db import ID_LENGTH, CaseFile, CaseFileRepository, CaseMessage
from routing.casefile.domain.search import case_terms
from routing.casefile.sla_projection import refresh_summary
from routing.cases.transitions import now_utc
from routing.db import Case, CaseRepository

StaffMessageKind = Literal["first_response", "reply", "question", "note"]
CUSTOMER_MESSAGE: Final = "customer_message"
CUSTOMER: Final = "customer"
# The history entries that keep a copy of a message text or staff's words about the case
# (which may quote the customer or name a contact), and where: erased with the case file.
_TEXTS_IN_HISTORY: Final = {
    "first_response_sent": ("message",),
    "agent_replied": ("message",),
    "awaiting_customer": ("reason",),
    "reopened": ("reason",),
    "withdrawn": ("reason",),  # the customer's words (routing.cases.withdrawal)
    "contact_revealed": ("reason",),  # routing.contacts: why a lead looked at the contact
    "recategorized": ("reason",),  # routing.cases.recategorization
    "reassigned": ("reason",),  # routing.assignment (a hand-off's reason)
    "escalation_requested": ("reason",),  # routing.cases.escalation
    "escalated": ("reason",),  # sla-watch's reason: the requester's words, or a breach
    "de_escalated": ("reason",),
    "duplicate_linked": ("reason",),  # routing.duplicates.manual (a merge by hand)
    "duplicate_received": ("reason",),
    "duplicate_unlinked": ("reason",),
}
# What an erased case shows as its customer reference: no customer's, and the same for
# every erased case, so nothing links them (the account manager lookup finds none).
ERASED_CUSTOMER: Final = "erased"


async def open_case_file(*, uow: UnitOfWork, case: Case, received: ComplaintReceived) -> None:
    """The case file of a new case (its row must be flushed): the received complaint's
    texts and customer, its search terms, and the clocks already known of it."""
    files = CaseFileRepository(uow.session)
    customer = received.customer
    files.add_file(
        CaseFile(
            complaint_id=case.complaint_id,
            subject=received.subject,
            description=received.description,
            order_ref=received.order_ref,
            occurred_at=received.occurred_at,
            attachments=_attachments(received.attachments),
            custom_metadata=dict(received.metadata),
            customer_external_ref=customer.external_ref,
            customer_masked_phone=customer.masked_phone,
            customer_masked_email=customer.masked_email,
            customer_preferred_channel=customer.preferred_channel,
            related_complaint_id=received.related_complaint_id,
            recorded_at=now_utc(),
        )
    )
    terms = case_terms(
        reference=received.reference,
        order_ref=received.order_ref,
        customer_ref=customer.customer_ref,
        subject=received.subject,
        description=received.description,
    )
    await files.add_terms(case.complaint_id, terms)  # a new case file: none to replace
    await refresh_summary(session=uow.session, case=case)


async def record_customer_message(
    *, uow: UnitOfWork, case: Case, message: CustomerMessageReceived, event_id: str
) -> None:
    """The customer's message in the conversation, once per message id."""
    await CaseFileRepository(uow.session).add_message_once(
        {
            "complaint_id": case.complaint_id,
            "kind": CUSTOMER_MESSAGE,
            "author": CUSTOMER,
            "channel": message.channel,
            "text": message.text,
            "attachments": _attachments(message.attachments),
            "message_id": message.message_id[:ID_LENGTH],
            "event_id": event_id[:ID_LENGTH],
            "at": message.received_at,
        }
    )


def record_staff_message(
    *,
    uow: UnitOfWork,
    case: Case,
    kind: StaffMessageKind,
    author: str,
    text: str | None,
    at: datetime,
    channel: str | None = None,
    in_reply_to: str | None = None,
    event_id: str | None = None,
) -> CaseMessage:
    """A first response, reply or question to the customer, or an internal note (``text``
    already masked; a first response or reply may have none)."""
    message = CaseMessage(
        complaint_id=case.complaint_id,
        kind=kind,
        author=author,
        channel=channel,
        text=text,
        attachments=[],
        in_reply_to=in_reply_to,
        event_id=event_id,
        at=at,
    )
    CaseFileRepository(uow.session).add_message(message)
    return message


async def erase(*, uow: UnitOfWork, complaint_id: str) -> None:
    """Erasure (§10): blank the complaint's texts, masked contacts, attachment urls,
    metadata values and messages, the case's customer reference, resolution texts and what
    its fired rules matched, and the copies of texts in its history; its search terms are
    rebuilt from its reference alone (the complaint's own number, no personal data), so
    staff still find the case by its reference. Categories, priorities, states, times, the
    solution type, the names of the fired rules, escalation levels and counts stay.
    Blanking what is blank already changes nothing (a replay)."""
    case = await CaseRepository(uow.session).get_for_update(complaint_id)
    if case is None:
        return  # routing never stored it: nothing of it to blank
    # The resolution's texts are staff's words about this customer's problem (and may quote
    # them); the solution type is the KPI and stays. The version stays: not a change of
    # the case an agent's form could be stale about.
    case.customer_ref = ERASED_CUSTOMER
    case.solution_summary = case.root_cause = case.preventive_measure = None
    # Which rules fired stays; what they matched goes: a rule's detail quotes the words of
    # the texts it matched (keywords, negations, a customer's capitals).
    case.rules_fired = [{**rule, "detail": ""} for rule in case.rules_fired]
    files = CaseFileRepository(uow.session)
    now = now_utc()
    await files.erase(complaint_id, at=now)
    if await files.file(complaint_id) is None:  # a case older than the case file
        files.add_file(CaseFile(complaint_id=complaint_id, recorded_at=now, erased_at=now))
    await files.blank_action_texts(complaint_id, _TEXTS_IN_HISTORY)
    await files.replace_terms(complaint_id, case_terms(reference=case.reference))


def _attachments(attachments: Iterable[AttachmentRef]) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in attachments]
