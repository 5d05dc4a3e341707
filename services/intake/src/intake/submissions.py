"""What customers send in: complaints (honouring the Idempotency-Key) and their later
messages. Each runs in one transaction; events leave through the outbox."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import uuid_utils
from complaint_contracts import topics
from complaint_contracts.events import ComplaintReceived, CustomerMessageReceived
from complaint_contracts.events.intake import AttachmentRef, CustomerView
from complaint_contracts.privacy import mask_email, mask_phone, redact_contacts
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.problems import Problem
from sqlalchemy.exc import IntegrityError

from intake.api.schemas import AttachmentIn, ComplaintIn, MessageIn
from intake.db import (
    Complaint,
    ComplaintRepository,
    CustomerMessage,
    HistoryEntry,
    IdempotencyRecord,
)
from intake.domain.customers import (
    customer_ref,
    identity_keys,
    keyed_hash,
    normalize_email,
    normalize_phone,
)
from intake.domain.references import format_reference
from intake.group_commit import GroupCommitter
from intake.references import ReferenceAllocator
from intake.secret_keys import Secrets

SOURCE = "intake"
REFERENCE_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Submission:
    complaint: ComplaintIn
    api_key_id: int
    idempotency_key: str | None
    body_hash: str


@dataclass(frozen=True)
class SubmissionResult:
    body: dict[str, Any]
    replayed: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def submit_complaint(
    *,
    database: Database,
    secrets_: Secrets,
    references: ReferenceAllocator,
    writer: GroupCommitter,
    submission: Submission,
    public_base_url: str,
) -> SubmissionResult:
    """Store a complaint and its ``received`` event, honouring the Idempotency-Key."""
    if submission.idempotency_key:
        replay = await _replay(database, secrets_, submission)
        if replay is not None:
            return replay
    now = datetime.now(UTC)
    day = now.astimezone(REFERENCE_ZONE).date()
    reference = format_reference(day, await references.next_number(day))

    async def store(uow: UnitOfWork) -> dict[str, Any]:
        body = _store_complaint(
            uow,
            submission.complaint,
            secrets_=secrets_,
            public_base_url=public_base_url,
            now=now,
            reference=reference,
        )
        if submission.idempotency_key:
            uow.session.add(
                IdempotencyRecord(
                    api_key_id=submission.api_key_id,
                    key=submission.idempotency_key,
                    request_hash=submission.body_hash,
                    status_code=201,
                    response=_seal(secrets_, body),
                )
            )
        return body

    if not submission.idempotency_key:
        return SubmissionResult(await writer.write(store), replayed=False)
    try:
        async with database.unit_of_work() as uow:
            body = await store(uow)
        return SubmissionResult(body, replayed=False)
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        replay = await _replay(database, secrets_, submission)
        if replay is not None:
            return replay
        raise


async def _replay(
    database: Database, secrets_: Secrets, submission: Submission
) -> SubmissionResult | None:
    assert submission.idempotency_key is not None
    async with database.sessions() as session:
        record = await ComplaintRepository(session).idempotency_record(
            submission.api_key_id, submission.idempotency_key
        )
    if record is None:
        return None
    if record.request_hash != submission.body_hash:
        raise Problem(
            422,
            "Idempotency-Key reused with a different body",
            "This Idempotency-Key was already used for another request; use a new key.",
            kind="idempotency-key-reused",
        )
    return SubmissionResult(_unseal(secrets_, record.response), replayed=True)


def _seal(secrets_: Secrets, body: dict[str, Any]) -> dict[str, Any]:
    """The stored answer holds the tracking token, which is a credential: encrypted."""
    sealed = secrets_.encrypt(json.dumps(body))
    assert sealed is not None
    return {"sealed": sealed.decode()}


def _unseal(secrets_: Secrets, stored: dict[str, Any]) -> dict[str, Any]:
    plain = secrets_.decrypt(str(stored["sealed"]).encode())
    assert plain is not None
    body: dict[str, Any] = json.loads(plain)
    return body


def _store_complaint(
    uow: UnitOfWork,
    complaint: ComplaintIn,
    *,
    secrets_: Secrets,
    public_base_url: str,
    now: datetime,
    reference: str,
) -> dict[str, Any]:
    complaint_id = str(uuid_utils.uuid7())
    tracking_token = secrets.token_urlsafe(24)
    customer = complaint.customer
    phone, email = customer.phone, customer.email
    ref = customer_ref(secrets_.ref_key, customer_id=customer.identity, phone=phone, email=email)
    masked_phone = mask_phone(phone) if phone else None
    masked_email = mask_email(email) if email else None
    row = Complaint(
        id=complaint_id,
        reference=reference,
        channel=complaint.channel,
        status="received",
        subject=complaint.subject,
        description=complaint.description,
        order_ref=complaint.order_ref,
        occurred_at=complaint.occurred_at,
        received_at=now,
        updated_at=now,
        attachments=[a.model_dump() for a in complaint.attachments],
        extra_metadata=dict(complaint.metadata),
        customer_ref=ref,
        customer_id=customer.identity,
        customer_name_enc=secrets_.encrypt(customer.name),
        phone_enc=secrets_.encrypt(phone),
        email_enc=secrets_.encrypt(email),
        phone_hash=keyed_hash(secrets_.ref_key, "phone", normalize_phone(phone)) if phone else None,
        email_hash=keyed_hash(secrets_.ref_key, "email", normalize_email(email)) if email else None,
        masked_phone=masked_phone,
        masked_email=masked_email,
        tier=customer.tier,
        language=customer.language,
        preferred_channel=customer.preferred_channel,
        tracking_token_hash=hash_token(tracking_token),
        tracking_token_enc=secrets_.encrypt(tracking_token),
        status_at=now,
    )
    uow.session.add(row)
    event = ComplaintReceived(
        complaint_id=complaint_id,
        reference=reference,
        channel=complaint.channel,
        customer=CustomerView(
            customer_ref=ref,
            external_ref=redact_contacts(customer.identity) if customer.identity else None,
            masked_phone=masked_phone,
            masked_email=masked_email,
            tier=customer.tier,
            language=customer.language,
            preferred_channel=customer.preferred_channel,
            identity_keys=identity_keys(
                secrets_.ref_key, customer_id=customer.identity, phone=phone, email=email
            ),
        ),
        subject=redact_contacts(complaint.subject),
        description=redact_contacts(complaint.description),
        order_ref=redact_contacts(complaint.order_ref) if complaint.order_ref else None,
        occurred_at=complaint.occurred_at,
        received_at=now,
        attachments=_attachment_refs(complaint.attachments),
        metadata={redact_contacts(k): redact_contacts(v) for k, v in complaint.metadata.items()},
    )
    event_id = uow.add_event(event, topic=topics.INTAKE.name, source=SOURCE, subject=complaint_id)
    # No flush here: the unit of work inserts complaints before the history rows that
    # reference them, and a group commit then batches each table's INSERTs.
    uow.session.add(
        HistoryEntry(
            complaint_id=complaint_id,
            event_id=event_id,
            event_type=event.ce_type(),
            source=SOURCE,
            occurred_at=now,
            data={"reference": reference, "channel": complaint.channel},
        )
    )
    return {
        "id": complaint_id,
        "reference": reference,
        "status": "received",
        "tracking_token": tracking_token,
        "tracking_url": f"{public_base_url}/v1/complaints/{complaint_id}?token={tracking_token}",
        "received_at": now.isoformat(),
    }


async def add_customer_message(
    *, database: Database, complaint_id: str, message: MessageIn
) -> dict[str, Any]:
    """Store a customer's message and announce it (``customer_message_received``)."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        complaint = await ComplaintRepository(uow.session).get(complaint_id)
        if complaint is None:
            raise Problem(404, "Complaint not found", kind="not-found")
        message_id = str(uuid_utils.uuid7())
        uow.session.add(
            CustomerMessage(
                id=message_id,
                complaint_id=complaint_id,
                channel=message.channel or complaint.channel,
                text=message.text,
                attachments=[a.model_dump() for a in message.attachments],
                received_at=now,
            )
        )
        event = CustomerMessageReceived(
            complaint_id=complaint_id,
            message_id=message_id,
            channel=message.channel or complaint.channel,
            customer_ref=complaint.customer_ref,
            text=redact_contacts(message.text),
            attachments=_attachment_refs(message.attachments),
            received_at=now,
        )
        event_id = uow.add_event(
            event, topic=topics.INTAKE.name, source=SOURCE, subject=complaint_id
        )
        uow.session.add(
            HistoryEntry(
                complaint_id=complaint_id,
                event_id=event_id,
                event_type=event.ce_type(),
                source=SOURCE,
                occurred_at=now,
                data={"message_id": message_id, "channel": event.channel},
            )
        )
        complaint.updated_at = now
    return {"message_id": message_id, "complaint_id": complaint_id, "received_at": now.isoformat()}


def _attachment_refs(attachments: list[AttachmentIn]) -> tuple[AttachmentRef, ...]:
    return tuple(
        AttachmentRef(url=redact_contacts(a.url), media_type=a.media_type, size=a.size)
        for a in attachments
    )
