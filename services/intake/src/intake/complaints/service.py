"""What customers send in: complaints (honouring the Idempotency-Key; their later messages
are :mod:`intake.complaints.messages`); and, for notify only, a complaint's raw contacts.
Each write runs in one transaction; events leave through the outbox."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import uuid_utils
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import ComplaintReceived
from complaint_contracts.events.intake import AttachmentRef, CustomerView
from complaint_contracts.privacy import redact_contacts
from complaint_runtime.database import Database, UnitOfWork
from sqlalchemy.exc import IntegrityError

from intake.complaints.db import SubmissionRepository
from intake.complaints.domain.customers import CustomerIdentity, identify
from intake.complaints.domain.errors import ComplaintNotFound, IdempotencyKeyReused
from intake.complaints.domain.references import format_reference, reference_day
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import (
    Attachment,
    NewComplaint,
    attachment_records,
)
from intake.complaints.domain.tracking import hash_token, new_tracking_token, tracking_url
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.db import (
    COMPLAINTS,
    HISTORY,
    ComplaintRepository,
    HistoryEntry,
    StagedRows,
    complaint_from_row,
)
from intake.projection.domain.promises import (
    ClockStep,
    clocks_expected,
    promises_of,
    running_due,
)

SOURCE = "intake"


@dataclass(frozen=True)
class Submission:
    """A complaint as posted by one front end (``api_key_id``, of front end ``front_end``,
    recorded with the complaint: its keys reach it); ``body_hash`` is what its
    Idempotency-Key is bound to (empty without a key: nothing is compared);
    ``id_namespace``: the one the customer's id is hashed in
    (:func:`intake.complaints.domain.customers.customer_id_namespace`)."""

    complaint: NewComplaint
    api_key_id: int
    idempotency_key: str | None
    body_hash: str
    front_end: str | None = None
    id_namespace: str | None = None


@dataclass(frozen=True)
class SubmissionResult:
    body: dict[str, Any]
    replayed: bool


# Stages a complaint in a unit of work and returns the 201's body.
Store = Callable[[UnitOfWork], Awaitable[dict[str, Any]]]


async def submit_complaint(
    *,
    database: Database,
    secrets_: Secrets,
    references: ReferenceAllocator,
    writer: GroupCommitter,
    submission: Submission,
    public_base_url: str,
) -> SubmissionResult:
    """Store a complaint and its ``received`` event, honouring the Idempotency-Key.

    Without a key the complaint joins a group commit (see :mod:`.group_commit`); with one,
    it gets its own transaction, so that a concurrent request with the same key fails on
    the idempotency record alone and replays the answer that won.
    """
    key = submission.idempotency_key
    if key:
        replay = await _replay(database, secrets_, submission, key)
        if replay is not None:
            return replay
    now = datetime.now(UTC)
    day = reference_day(now)
    reference = format_reference(day, await references.next_number(day))

    async def store(uow: UnitOfWork) -> dict[str, Any]:
        body = stage_complaint(
            uow,
            StagedRows.of(uow.session),
            submission.complaint,
            secrets_=secrets_,
            public_base_url=public_base_url,
            now=now,
            reference=reference,
            front_end=submission.front_end,
            id_namespace=submission.id_namespace,
        )
        if key:
            SubmissionRepository(uow.session).add_idempotency_record(
                api_key_id=submission.api_key_id,
                key=key,
                request_hash=submission.body_hash,
                response=_seal(secrets_, body),
            )
        return body

    if not key:
        return SubmissionResult(await writer.write(store), replayed=False)
    return await _store_once(database, secrets_, submission, key, store)


async def _store_once(
    database: Database, secrets_: Secrets, submission: Submission, key: str, store: Store
) -> SubmissionResult:
    try:
        async with database.unit_of_work() as uow:
            staged = StagedRows.open(uow.session)
            body = await store(uow)
            await staged.write(uow.session)
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        replay = await _replay(database, secrets_, submission, key)
        if replay is not None:
            return replay
        raise
    return SubmissionResult(body, replayed=False)


async def _replay(
    database: Database, secrets_: Secrets, submission: Submission, key: str
) -> SubmissionResult | None:
    """The answer already given to this key, if any; the same key with another body is
    refused."""
    async with database.sessions() as session:
        record = await SubmissionRepository(session).idempotency_record(submission.api_key_id, key)
    if record is None:
        return None
    if record.request_hash != submission.body_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for another request; use a new key."
        )
    return SubmissionResult(_unseal(secrets_, record.response), replayed=True)


def _seal(secrets_: Secrets, body: dict[str, Any]) -> dict[str, Any]:
    """The stored answer holds the tracking token, which is a credential: encrypted."""
    return {"sealed": secrets_.seal(json.dumps(body)).decode()}


def _unseal(secrets_: Secrets, stored: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(secrets_.unseal(str(stored["sealed"]).encode()))
    return body


def store_complaint(
    uow: UnitOfWork,
    complaint: NewComplaint,
    *,
    secrets_: Secrets,
    public_base_url: str,
    now: datetime,
    reference: str,
    related_complaint_id: str | None = None,
    front_end: str | None = None,
    id_namespace: str | None = None,
) -> dict[str, Any]:
    """Stage the complaint row, its ``received`` event and its first history entry in
    ``uow`` (ORM objects, flushed at its commit); returns the 201's body.
    ``related_complaint_id``: the earlier complaint it follows up; ``front_end`` and
    ``id_namespace`` as in :class:`Submission`."""
    rows = _new_complaint(
        uow,
        complaint,
        secrets_=secrets_,
        public_base_url=public_base_url,
        now=now,
        reference=reference,
        related_complaint_id=related_complaint_id,
        front_end=front_end,
        id_namespace=id_namespace,
    )
    uow.session.add(complaint_from_row(rows.complaint))
    uow.session.add(HistoryEntry(**rows.history))
    return rows.body


def stage_complaint(
    uow: UnitOfWork,
    staged: StagedRows,
    complaint: NewComplaint,
    *,
    secrets_: Secrets,
    public_base_url: str,
    now: datetime,
    reference: str,
    front_end: str | None = None,
    id_namespace: str | None = None,
) -> dict[str, Any]:
    """Like :func:`store_complaint`, the rows staged as plain rows in ``staged`` (its
    opener writes them, a group commit with one INSERT per table for all its members);
    the event goes to ``uow``'s outbox."""
    rows = _new_complaint(
        uow,
        complaint,
        secrets_=secrets_,
        public_base_url=public_base_url,
        now=now,
        reference=reference,
        related_complaint_id=None,
        front_end=front_end,
        id_namespace=id_namespace,
    )
    staged.add(COMPLAINTS, rows.complaint)
    staged.add(HISTORY, rows.history)
    return rows.body


@dataclass(frozen=True)
class _ComplaintRows:
    """A new complaint's ``complaints`` and ``complaint_history`` rows (by column name) and
    the 201's body."""

    complaint: dict[str, Any]
    history: dict[str, Any]
    body: dict[str, Any]


def _new_complaint(
    uow: UnitOfWork,
    complaint: NewComplaint,
    *,
    secrets_: Secrets,
    public_base_url: str,
    now: datetime,
    reference: str,
    related_complaint_id: str | None,
    front_end: str | None,
    id_namespace: str | None,
) -> _ComplaintRows:
    """The new complaint's rows; its ``received`` event is staged in ``uow``'s outbox."""
    complaint_id = str(uuid_utils.uuid7())
    tracking_token = new_tracking_token()
    customer = complaint.customer
    identity = identify(
        secrets_.ref_key,
        customer_id=customer.identity,
        phone=customer.phone,
        email=customer.email,
        id_namespace=id_namespace,
    )
    row = _complaint_row(
        complaint,
        identity,
        secrets_,
        complaint_id=complaint_id,
        reference=reference,
        tracking_token=tracking_token,
        now=now,
        related_complaint_id=related_complaint_id,
        front_end=front_end,
    )
    event = _received_event(
        complaint,
        identity,
        complaint_id=complaint_id,
        reference=reference,
        now=now,
        related_complaint_id=related_complaint_id,
    )
    data = {"reference": reference, "channel": complaint.channel}
    if related_complaint_id is not None:
        data["related_complaint_id"] = related_complaint_id
    history = _history_row(uow, event, complaint_id=complaint_id, now=now, data=data)
    body = {
        "id": complaint_id,
        "reference": reference,
        "status": "received",
        "tracking_token": tracking_token,
        "tracking_url": tracking_url(public_base_url, tracking_token),
        "received_at": now.isoformat(),
    }
    return _ComplaintRows(row, history, body)


def _complaint_row(
    complaint: NewComplaint,
    identity: CustomerIdentity,
    secrets_: Secrets,
    *,
    complaint_id: str,
    reference: str,
    tracking_token: str,
    now: datetime,
    related_complaint_id: str | None,
    front_end: str | None,
) -> dict[str, Any]:
    """The ``complaints`` row, by column name (every row names the same columns, so that
    a group's rows go in one INSERT). The raw contacts are stored only here, encrypted;
    the rest of intake and every event get the customer reference and the masked
    contacts."""
    customer = complaint.customer
    return {
        "id": complaint_id,
        "reference": reference,
        "channel": complaint.channel,
        "status": "received",
        "subject": complaint.subject,
        "description": complaint.description,
        "order_ref": complaint.order_ref,
        "occurred_at": complaint.occurred_at,
        "received_at": now,
        "updated_at": now,
        "attachments": attachment_records(complaint.attachments),
        "metadata": dict(complaint.metadata),
        "customer_ref": identity.customer_ref,
        "customer_id": customer.identity,
        "customer_name_enc": secrets_.encrypt(customer.name),
        "phone_enc": secrets_.encrypt(customer.phone),
        "email_enc": secrets_.encrypt(customer.email),
        "phone_hash": identity.phone_hash,
        "email_hash": identity.email_hash,
        "masked_phone": identity.masked_phone,
        "masked_email": identity.masked_email,
        "tier": customer.tier,
        "language": customer.language,
        "preferred_channel": customer.preferred_channel,
        "tracking_token_hash": hash_token(tracking_token),
        "tracking_token_enc": secrets_.encrypt(tracking_token),
        "status_at": now,
        "related_complaint_id": related_complaint_id,
        "timezone": complaint.timezone,
        "front_end": front_end,
    }


def _received_event(
    complaint: NewComplaint,
    identity: CustomerIdentity,
    *,
    complaint_id: str,
    reference: str,
    now: datetime,
    related_complaint_id: str | None,
) -> ComplaintReceived:
    """``complaint.received`` with no raw contact: free text is redacted."""
    customer = complaint.customer
    return ComplaintReceived(
        complaint_id=complaint_id,
        reference=reference,
        channel=complaint.channel,
        customer=CustomerView(
            customer_ref=identity.customer_ref,
            external_ref=redact_contacts(customer.identity) if customer.identity else None,
            masked_phone=identity.masked_phone,
            masked_email=identity.masked_email,
            tier=customer.tier,
            language=customer.language,
            preferred_channel=customer.preferred_channel,
            identity_keys=identity.identity_keys,
        ),
        subject=redact_contacts(complaint.subject),
        description=redact_contacts(complaint.description),
        order_ref=redact_contacts(complaint.order_ref) if complaint.order_ref else None,
        occurred_at=complaint.occurred_at,
        received_at=now,
        attachments=attachment_refs(complaint.attachments),
        metadata={redact_contacts(k): redact_contacts(v) for k, v in complaint.metadata.items()},
        related_complaint_id=related_complaint_id,
    )


def record_step(
    uow: UnitOfWork, event: EventData, *, complaint_id: str, now: datetime, data: dict[str, Any]
) -> None:
    """Stage intake's own event in the outbox and as a step of the complaint's history."""
    uow.session.add(
        HistoryEntry(**_history_row(uow, event, complaint_id=complaint_id, now=now, data=data))
    )


def _history_row(
    uow: UnitOfWork, event: EventData, *, complaint_id: str, now: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """Stage ``event`` in the outbox; returns its ``complaint_history`` row."""
    event_id = uow.add_event(event, topic=topics.INTAKE.name, source=SOURCE, subject=complaint_id)
    return {
        "complaint_id": complaint_id,
        "event_id": event_id,
        "event_type": event.ce_type(),
        "source": SOURCE,
        "occurred_at": now,
        "data": data,
    }


def attachment_refs(attachments: Sequence[Attachment]) -> tuple[AttachmentRef, ...]:
    return tuple(
        AttachmentRef(url=redact_contacts(a.url), media_type=a.media_type, size=a.size)
        for a in attachments
    )


@dataclass(frozen=True)
class ContactDetails:
    """What notify needs to write to the customer just in time: raw contacts, the link,
    and the times promised to them (from the SLA clocks, shown in ``timezone``)."""

    complaint_id: str
    reference: str
    name: str | None
    email: str | None
    phone: str | None
    language: str
    preferred_channel: str | None
    tracking_url: str | None
    team: str | None
    assignee: str | None
    priority: str | None
    received_at: datetime
    timezone: str
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    clocks_expected: bool


async def contact_card(
    *,
    database: Database,
    secrets_: Secrets,
    complaint_id: str,
    public_base_url: str,
    organisation_timezone: str,
) -> ContactDetails:
    """Raw contacts for a notification about to be sent: the only way they leave intake.

    The promised times are the running clocks' due times as sla-watch reported them (the
    history's sla events, folded like the tracking page's promises), so a message states
    what the team is actually held to; ``clocks_expected`` says they are still to come
    (sla-watch arms them about a second after the complaint is received)."""
    async with database.sessions() as session:
        repository = ComplaintRepository(session)
        complaint = await repository.get(complaint_id)
        if complaint is None:
            raise ComplaintNotFound()
        history = await repository.history(complaint.id)
    return contact_details(
        complaint,
        [ClockStep(entry.event_type, entry.data) for entry in history],
        secrets_=secrets_,
        public_base_url=public_base_url,
        organisation_timezone=organisation_timezone,
    )


def contact_details(
    complaint: Any,
    steps: list[ClockStep],
    *,
    secrets_: Secrets,
    public_base_url: str,
    organisation_timezone: str,
) -> ContactDetails:
    """A complaint's raw contacts and promised times, from its row and its history's clock
    steps: what the single and the batch contact lookup answer."""
    promises = promises_of(steps)
    token = secrets_.decrypt(complaint.tracking_token_enc)
    return ContactDetails(
        complaint_id=complaint.id,
        reference=complaint.reference,
        name=secrets_.decrypt(complaint.customer_name_enc),
        email=secrets_.decrypt(complaint.email_enc),
        phone=secrets_.decrypt(complaint.phone_enc),
        language=complaint.language,
        preferred_channel=complaint.preferred_channel,
        tracking_url=tracking_url(public_base_url, token) if token else None,
        team=complaint.team,
        assignee=complaint.assignee,
        priority=complaint.priority,
        received_at=complaint.received_at,
        timezone=complaint.timezone or organisation_timezone,
        first_response_due_at=running_due(promises, "first_response"),
        resolution_due_at=running_due(promises, "resolution"),
        clocks_expected=clocks_expected(
            promises, status=complaint.status, duplicate_of=complaint.duplicate_of
        ),
    )
