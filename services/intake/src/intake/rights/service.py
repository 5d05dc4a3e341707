"""Access and correction (§10): what intake holds about a customer, exported a page at a
time, and a complaint's contact details corrected. Reads run in one session, a correction
in one transaction with its history entry, its audit entry and its event
(``complaint.contacts_corrected``: the masked contacts after it, for the services that keep
a copy); refusals are the domain's errors.

Retention is :mod:`intake.rights.retention`; erasure is :mod:`intake.erasure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import uuid_utils
from complaint_contracts import topics
from complaint_contracts.events import ComplaintContactsCorrected
from complaint_contracts.privacy import redact_contacts
from complaint_runtime.database import Database, UnitOfWork

from intake.complaints.db import CustomerMessage
from intake.complaints.domain.customers import identify, namespace_of
from intake.complaints.domain.errors import ComplaintAnonymised, ComplaintNotFound
from intake.complaints.domain.secret_keys import Secrets
from intake.db import Complaint, ComplaintRepository, HistoryEntry
from intake.erasure.domain.anonymisation import is_erased
from intake.projection.domain.visibility import customer_data, visible_to_customer
from intake.rights.db import RightsRepository
from intake.rights.domain import corrections
from intake.rights.domain.errors import CustomerNotFound
from intake.rights.domain.subjects import RightsCaller, SubjectQuery

# A page of an export: its complaints with all their messages and steps. A customer with
# more complaints is exported page by page (the answer's ``next_after``).
EXPORT_PAGE_SIZE: Final = 20
SOURCE: Final = "intake"
# The staff-only history step of a correction (the customer's view leaves it out); it
# carries the id of the complaint.contacts_corrected event staged with it.
CONTACTS_CORRECTED: Final = "intake.contacts_corrected"


@dataclass(frozen=True)
class ExportedCustomer:
    """The customer as the complaint holds them, contacts decrypted."""

    external_ref: str | None
    name: str | None
    phone: str | None
    email: str | None
    preferred_channel: str | None
    language: str
    tier: str
    timezone: str | None


@dataclass(frozen=True)
class ExportedMessage:
    id: str
    channel: str
    text: str
    attachments: list[dict[str, Any]]
    received_at: datetime


@dataclass(frozen=True)
class ExportedStep:
    """A step of the complaint's timeline as the customer's tracking view shows it."""

    type: str
    time: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class ExportedComplaint:
    id: str
    reference: str
    channel: str
    status: str
    close_reason: str | None
    received_at: datetime
    closed_at: datetime | None
    subject: str
    description: str
    order_ref: str | None
    occurred_at: datetime | None
    attachments: list[dict[str, Any]]
    metadata: dict[str, str]
    related_complaint_id: str | None
    customer: ExportedCustomer
    messages: tuple[ExportedMessage, ...]
    timeline: tuple[ExportedStep, ...]


@dataclass(frozen=True)
class CustomerExport:
    """One page of a customer's data; ``next_after``: ask again with it for the next page
    (None: this was the last). ``export_id`` names its entry in the audit chain."""

    export_id: str
    exported_at: datetime
    complaints: tuple[ExportedComplaint, ...]
    next_after: str | None


async def export_customer_data(
    *,
    database: Database,
    secrets_: Secrets,
    query: SubjectQuery,
    after: str | None,
    actor: str,
    page_size: int = EXPORT_PAGE_SIZE,
) -> CustomerExport:
    """The customer's complaints (those after ``after``, at most ``page_size``) with what
    intake holds of each: contacts decrypted, texts, attachments' metadata, the customer's
    messages and the timeline the customer sees. Nothing else: no keyed hash, no staff-only
    step, no other customer's complaint. No complaint at all (and no ``after``) is
    :class:`CustomerNotFound`, the same answer whether the customer is unknown or another
    front end's. Each page is an entry of the audit chain (``actor``, the complaints'
    ids)."""
    export_id = str(uuid_utils.uuid7())
    async with database.unit_of_work() as uow:
        repository = RightsRepository(uow.session)
        found = await repository.complaints_of(query, after=after, limit=page_size + 1)
        page = list(found[:page_size])
        ids = [complaint.id for complaint in page]
        if not page and after is None:
            raise CustomerNotFound("No complaint of this customer is held here.")
        messages = await repository.messages_of(ids) if ids else {}
        history = await repository.history_of(ids) if ids else {}
        # A disclosure of personal data: audited with whom it was for as ids only (how the
        # customer was named, the complaints), never the contact itself.
        uow.audit(
            actor=actor,
            action="customer.exported",
            object_type="export",
            object_id=export_id,
            after={"named_by": query.kind, "front_end": query.front_end, "complaints": ids},
        )
        exported = tuple(
            _exported(c, messages.get(c.id, []), history.get(c.id, []), secrets_) for c in page
        )
    return CustomerExport(
        export_id=export_id,
        exported_at=datetime.now(UTC),
        complaints=exported,
        next_after=page[-1].id if len(found) > page_size else None,
    )


def _exported(
    complaint: Complaint,
    messages: Sequence[CustomerMessage],
    history: Sequence[HistoryEntry],
    secrets_: Secrets,
) -> ExportedComplaint:
    return ExportedComplaint(
        id=complaint.id,
        reference=complaint.reference,
        channel=complaint.channel,
        status=complaint.status,
        close_reason=complaint.close_reason,
        received_at=complaint.received_at,
        closed_at=complaint.closed_at,
        subject=complaint.subject,
        description=complaint.description,
        order_ref=complaint.order_ref,
        occurred_at=complaint.occurred_at,
        attachments=list(complaint.attachments),
        metadata=dict(complaint.extra_metadata),
        related_complaint_id=complaint.related_complaint_id,
        customer=ExportedCustomer(
            external_ref=complaint.customer_id,
            name=secrets_.decrypt(complaint.customer_name_enc),
            phone=secrets_.decrypt(complaint.phone_enc),
            email=secrets_.decrypt(complaint.email_enc),
            preferred_channel=complaint.preferred_channel,
            language=complaint.language,
            tier=complaint.tier,
            timezone=complaint.timezone,
        ),
        messages=tuple(
            ExportedMessage(m.id, m.channel, m.text, list(m.attachments), m.received_at)
            for m in messages
        ),
        # The customer's own view of the steps (projection.domain.visibility): staff-only
        # steps and the internals of the others are not the customer's data but the
        # organisation's.
        timeline=tuple(
            ExportedStep(
                entry.event_type,
                entry.occurred_at,
                customer_data(entry.event_type, entry.data, language=complaint.language),
            )
            for entry in history
            if visible_to_customer(entry.event_type)
        ),
    )


@dataclass(frozen=True)
class CorrectedContacts:
    """The complaint's contacts after the correction, as anyone may see them, and which
    fields it changed (none: the values were already these; nothing was recorded)."""

    complaint_id: str
    reference: str
    has_name: bool
    masked_phone: str | None
    masked_email: str | None
    preferred_channel: str | None
    corrected: tuple[str, ...]
    corrected_at: datetime


async def correct_contacts(
    *,
    database: Database,
    secrets_: Secrets,
    caller: RightsCaller,
    complaint_id: str,
    patch: Mapping[str, str | None],
) -> CorrectedContacts:
    """Merge ``patch`` into the complaint's contact details (see
    :mod:`intake.rights.domain.corrections`): re-encrypted, keyed hashes and masked forms
    recomputed, the customer reference kept, a history step and an audit-chain entry naming
    the fields and the actor (never the values), and ``complaint.contacts_corrected`` with
    the masked contacts in the outbox, all in the same transaction: other services' copies
    follow the correction, and a correction that fails announces nothing. Refusals:
    ``ComplaintNotFound`` (not the caller's complaint), :class:`ComplaintAnonymised`,
    ``InvalidInput``."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        # Locked: two corrections of one complaint apply one after the other, each merging
        # into what the other left.
        complaint = await ComplaintRepository(uow.session).get_for_update(complaint_id)
        if complaint is None or not caller.may_act_on(complaint.front_end):
            raise ComplaintNotFound()
        if is_erased(complaint.customer_ref):
            raise ComplaintAnonymised("This complaint's personal data was erased.")
        before = _contacts(complaint, secrets_)
        after = corrections.merge(before, patch)
        corrections.check_identifiable(after, customer_id=complaint.customer_id)
        fields = corrections.changed(before, after)
        if fields:
            keys = _apply(complaint, after, secrets_, now=now)
            event_id = _announce(
                uow, complaint, fields, identity_keys=keys, actor=caller.actor, now=now
            )
            uow.session.add(
                HistoryEntry(
                    complaint_id=complaint.id,
                    event_id=event_id,
                    event_type=CONTACTS_CORRECTED,
                    source=SOURCE,
                    occurred_at=now,
                    data={"fields": list(fields), "actor": caller.actor},
                )
            )
            uow.audit(
                actor=caller.actor,
                action="contacts.corrected",
                object_type="complaint",
                object_id=complaint.id,
                after={"fields": list(fields)},
            )
    return CorrectedContacts(
        complaint_id=complaint.id,
        reference=complaint.reference,
        has_name=after.name is not None,
        masked_phone=complaint.masked_phone,
        masked_email=complaint.masked_email,
        preferred_channel=complaint.preferred_channel,
        corrected=fields,
        corrected_at=now,
    )


def _announce(
    uow: UnitOfWork,
    complaint: Complaint,
    fields: Sequence[str],
    *,
    identity_keys: tuple[str, ...],
    actor: str,
    now: datetime,
) -> str:
    """Stage ``complaint.contacts_corrected`` in the outbox (the row already corrected: its
    masked forms and the corrected contacts' identity keys, never the raw contacts);
    returns its id."""
    event = ComplaintContactsCorrected(
        complaint_id=complaint.id,
        customer_ref=complaint.customer_ref,
        corrected=tuple(fields),
        masked_phone=complaint.masked_phone,
        masked_email=complaint.masked_email,
        preferred_channel=complaint.preferred_channel,
        identity_keys=identity_keys,
        corrected_at=now,
        # An administrator's user id is the identity provider's: should it be an address,
        # the event gets it masked (the audit chain keeps who it was).
        actor=redact_contacts(actor),
    )
    return uow.add_event(event, topic=topics.INTAKE.name, source=SOURCE, subject=complaint.id)


def _contacts(complaint: Complaint, secrets_: Secrets) -> corrections.ContactDetails:
    return corrections.ContactDetails(
        name=secrets_.decrypt(complaint.customer_name_enc),
        phone=secrets_.decrypt(complaint.phone_enc),
        email=secrets_.decrypt(complaint.email_enc),
        preferred_channel=complaint.preferred_channel,
    )


def _apply(
    complaint: Complaint, contacts: corrections.ContactDetails, secrets_: Secrets, *, now: datetime
) -> tuple[str, ...]:
    """The corrected contacts into the row: encrypted under the current key, hashes and masks
    from the same derivation as at submission; ``customer_ref`` untouched (see
    :mod:`intake.rights.domain.corrections`). Returns the identity keys of the corrected
    contacts, as ``complaint.received`` carries them."""
    identity = identify(
        secrets_.ref_key,
        customer_id=complaint.customer_id,
        phone=contacts.phone,
        email=contacts.email,
        # The customer id's key in the namespace it was filed in, as the received event's:
        # the id is not corrected, so its key must come out unchanged.
        id_namespace=namespace_of(
            secrets_.ref_key,
            stored_ref=complaint.customer_ref,
            customer_id=complaint.customer_id,
            front_end=complaint.front_end,
        ),
    )
    complaint.customer_name_enc = secrets_.encrypt(contacts.name)
    complaint.phone_enc = secrets_.encrypt(contacts.phone)
    complaint.email_enc = secrets_.encrypt(contacts.email)
    complaint.phone_hash = identity.phone_hash
    complaint.email_hash = identity.email_hash
    complaint.masked_phone = identity.masked_phone
    complaint.masked_email = identity.masked_email
    complaint.preferred_channel = contacts.preferred_channel
    complaint.updated_at = now
    return identity.identity_keys
