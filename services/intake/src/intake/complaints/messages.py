"""The customer writes about their complaint (§3): the message is stored and announced
(``complaint.customer_message_received``) while the complaint is open, and within the reopen
window after its closure (feedback then reopens it); after the window it does not reach the
old complaint but opens a new one, linked to it, with the message as its description
(:mod:`intake.complaints.domain.follow_ups` decides which). A withdrawn complaint refuses
it. Either answer commits in one transaction with its history entry and its event, so
nothing is half-applied."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import uuid_utils
from complaint_contracts.events import CustomerMessageReceived
from complaint_contracts.privacy import redact_contacts
from complaint_contracts.vocabulary import Channel, Language, PreferredChannel, Tier
from complaint_runtime.database import Database, UnitOfWork
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.access.domain.callers import Viewer
from intake.complaints import replays
from intake.complaints.db import CustomerMessage, SubmissionRepository
from intake.complaints.domain.customers import namespace_of
from intake.complaints.domain.errors import ComplaintAnonymised, ComplaintNotFound
from intake.complaints.domain.follow_ups import follow_up_subject, route_message
from intake.complaints.domain.references import format_reference, reference_day
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import (
    CustomerDetails,
    NewComplaint,
    NewMessage,
    attachment_records,
)
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.complaints.service import attachment_refs, record_step, store_complaint
from intake.db import Complaint, ComplaintRepository
from intake.erasure.domain.anonymisation import is_erased


@dataclass(frozen=True)
class AcceptedMessage:
    """The message joined the complaint; ``reopens``: the complaint was closed within the
    reopen window, and the message reopens it."""

    message_id: str
    complaint_id: str
    received_at: datetime
    reopens: bool = False


@dataclass(frozen=True)
class FollowUpOpened:
    """The complaint was closed longer ago than the reopen window: the message opened a
    new complaint (``accepted``: the answer a posted complaint gets, tracking token
    included) that follows up ``related_complaint_id``."""

    accepted: dict[str, Any]
    related_complaint_id: str
    related_reference: str


@dataclass(frozen=True)
class _FollowUp:
    """What the new complaint takes from the old one, read in the old one's transaction:
    the front end too (its keys reach the follow-up) and the namespace the customer's id
    was hashed in (the same customer reference)."""

    complaint: NewComplaint
    related_complaint_id: str
    related_reference: str
    front_end: str | None
    id_namespace: str | None


async def add_customer_message(
    *,
    database: Database,
    secrets_: Secrets,
    references: ReferenceAllocator,
    viewer: Viewer,
    complaint_id: str,
    message: NewMessage,
    public_base_url: str,
    reopen_window: timedelta,
    submission_key: str | None = None,
    received_at: datetime | None = None,
) -> AcceptedMessage | FollowUpOpened:
    """Store a customer's message on a complaint the caller may see, or open its follow-up
    (see the module docstring). ``submission_key`` (the tracking page's form): the same key
    again gets the first answer back and stores nothing (:mod:`.replays`).
    ``received_at``: when the customer's message reached the platform, if earlier than now
    (a reply notify received while intake was down): the reopen window is measured to it, so
    an outage does not turn a timely reply into a follow-up. Refusals:
    ``ComplaintNotFound``, ``ComplaintWithdrawn``, ``ChannelNotAllowed`` (a front end's key
    opening a follow-up on a channel it may not post for), ``IdempotencyKeyReused``."""
    once = (
        _Once(replays.page_key("message", complaint_id, submission_key), message.text)
        if submission_key
        else None
    )
    if once is not None:
        replay = await _replay(database, secrets_, once)
        if replay is not None:
            return replay
    try:
        return await _add(
            database=database,
            secrets_=secrets_,
            references=references,
            viewer=viewer,
            complaint_id=complaint_id,
            message=message,
            public_base_url=public_base_url,
            reopen_window=reopen_window,
            once=once,
            received_at=received_at,
        )
    except IntegrityError:
        # A concurrent submission with the same key won the race: its answer stands.
        replay = await _replay(database, secrets_, once) if once is not None else None
        if replay is None:
            raise
        return replay


@dataclass(frozen=True)
class _Once:
    """A page submission's key and the text it is bound to."""

    key: str
    text: str

    @property
    def request_hash(self) -> str:
        return replays.fingerprint(self.text)


async def _add(
    *,
    database: Database,
    secrets_: Secrets,
    references: ReferenceAllocator,
    viewer: Viewer,
    complaint_id: str,
    message: NewMessage,
    public_base_url: str,
    reopen_window: timedelta,
    once: _Once | None,
    received_at: datetime | None = None,
) -> AcceptedMessage | FollowUpOpened:
    now = datetime.now(UTC)
    # Never later than now: a clock ahead must not stretch the window either.
    received = min(received_at, now) if received_at is not None else now
    async with database.unit_of_work() as uow:
        complaint = await ComplaintRepository(uow.session).get(complaint_id)
        if complaint is None or not viewer.may_view(complaint):
            raise ComplaintNotFound()
        if is_erased(complaint.customer_ref):
            raise ComplaintAnonymised("The complaint's personal data was erased.")
        route = route_message(
            status=complaint.status,
            close_reason=complaint.close_reason,
            closed_at=complaint.closed_at or complaint.status_at,
            received_at=received,
            window=reopen_window,
        )
        if route != "follow_up":
            accepted = _store_message(uow, complaint, message, now=now, reopens=route == "reopen")
            _remember(uow, secrets_, once, {"outcome": "message_added", **asdict(accepted)})
            return accepted
        follow_up = _follow_up_of(complaint, message, secrets_)
        if viewer.front_end is not None:
            viewer.front_end.check_may_post(follow_up.complaint.channel)
    # The old complaint is left as it is; the new one numbers and commits on its own (a
    # reference block is reserved in a transaction of its own).
    return await _open_follow_up(
        database=database,
        secrets_=secrets_,
        references=references,
        follow_up=follow_up,
        public_base_url=public_base_url,
        once=once,
    )


def _remember(
    uow: UnitOfWork, secrets_: Secrets, once: _Once | None, answer: dict[str, Any]
) -> None:
    if once is not None:
        replays.record(
            uow.session, secrets_, key=once.key, request_hash=once.request_hash, answer=answer
        )


async def _replay(
    database: Database, secrets_: Secrets, once: _Once
) -> AcceptedMessage | FollowUpOpened | None:
    async with database.sessions() as session:
        answer = await replays.replayed(
            session, secrets_, key=once.key, request_hash=once.request_hash
        )
    if answer is None:
        return None
    if answer["outcome"] == "new_complaint":
        return FollowUpOpened(
            answer["accepted"], answer["related_complaint_id"], answer["related_reference"]
        )
    return AcceptedMessage(
        message_id=answer["message_id"],
        complaint_id=answer["complaint_id"],
        received_at=datetime.fromisoformat(answer["received_at"]),
        reopens=bool(answer["reopens"]),
    )


MAX_SHOWN_MESSAGES = 500


async def customer_messages(*, database: Database, complaint_id: str) -> list[str]:
    """The texts the customer wrote on a complaint, oldest first, for their own tracking
    page (the caller has checked that the viewer may see the complaint)."""
    async with database.sessions() as session:
        return await customer_messages_in(session, complaint_id=complaint_id)


async def customer_messages_in(session: AsyncSession, *, complaint_id: str) -> list[str]:
    """:func:`customer_messages` in the caller's session (the page reads its view with it)."""
    rows = await SubmissionRepository(session).messages_of(complaint_id, limit=MAX_SHOWN_MESSAGES)
    return [row.text for row in rows]


def _store_message(
    uow: UnitOfWork, complaint: Complaint, message: NewMessage, *, now: datetime, reopens: bool
) -> AcceptedMessage:
    """The message row, its event and its history entry, staged in ``uow``."""
    message_id = str(uuid_utils.uuid7())
    channel = message.channel or complaint.channel
    uow.session.add(
        CustomerMessage(
            id=message_id,
            complaint_id=complaint.id,
            channel=channel,
            text=message.text,
            attachments=attachment_records(message.attachments),
            received_at=now,
        )
    )
    event = CustomerMessageReceived(
        complaint_id=complaint.id,
        message_id=message_id,
        channel=channel,
        customer_ref=complaint.customer_ref,
        text=redact_contacts(message.text),
        attachments=attachment_refs(message.attachments),
        received_at=now,
    )
    record_step(
        uow,
        event,
        complaint_id=complaint.id,
        now=now,
        data={"message_id": message_id, "channel": event.channel},
    )
    complaint.updated_at = now
    return AcceptedMessage(message_id, complaint.id, now, reopens)


def _follow_up_of(complaint: Complaint, message: NewMessage, secrets_: Secrets) -> _FollowUp:
    """The new complaint: the same customer (contacts decrypted here, encrypted again when
    stored), the old complaint's channel unless the message names one, a subject derived
    from the old one, the message as its description with its attachments, the order
    reference carried over."""
    # The row's columns hold only these vocabularies (the API validated them on the way in).
    language: Language = "en" if complaint.language == "en" else "zh-CN"
    customer = CustomerDetails(
        identity=complaint.customer_id,
        name=secrets_.decrypt(complaint.customer_name_enc),
        phone=secrets_.decrypt(complaint.phone_enc),
        email=secrets_.decrypt(complaint.email_enc),
        preferred_channel=cast(PreferredChannel | None, complaint.preferred_channel),
        language=language,
        tier=cast(Tier, complaint.tier),
    )
    new = NewComplaint(
        channel=message.channel or cast(Channel, complaint.channel),
        customer=customer,
        subject=follow_up_subject(complaint.subject, language=language),
        description=message.text,
        order_ref=complaint.order_ref,
        attachments=message.attachments,
        timezone=complaint.timezone,
    )
    namespace = namespace_of(
        secrets_.ref_key,
        stored_ref=complaint.customer_ref,
        customer_id=complaint.customer_id,
        front_end=complaint.front_end,
    )
    return _FollowUp(new, complaint.id, complaint.reference, complaint.front_end, namespace)


async def _open_follow_up(
    *,
    database: Database,
    secrets_: Secrets,
    references: ReferenceAllocator,
    follow_up: _FollowUp,
    public_base_url: str,
    once: _Once | None = None,
) -> FollowUpOpened:
    now = datetime.now(UTC)
    day = reference_day(now)
    reference = format_reference(day, await references.next_number(day))
    async with database.unit_of_work() as uow:
        accepted = store_complaint(
            uow,
            follow_up.complaint,
            secrets_=secrets_,
            public_base_url=public_base_url,
            now=now,
            reference=reference,
            related_complaint_id=follow_up.related_complaint_id,
            front_end=follow_up.front_end,
            id_namespace=follow_up.id_namespace,
        )
        opened = FollowUpOpened(
            accepted, follow_up.related_complaint_id, follow_up.related_reference
        )
        _remember(uow, secrets_, once, {"outcome": "new_complaint", **asdict(opened)})
    return opened
