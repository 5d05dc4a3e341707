"""Just-in-time preparation of one delivery: resolve the recipient, render the message.

Contacts are looked up (from intake, or the staff directory) only when a claimed delivery
is about to be sent, and only a masked address and a keyed hash of it are stored. The
delivery loop reads the intake contacts of a whole claimed batch in one request first
(:meth:`MessagePreparer.prefetch_contacts`); they live in memory for that round only, and a
delivery whose complaint the batch did not answer looks it up on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from complaint_contracts.events.notify import FailureReason
from complaint_runtime.consumer import TransientError
from complaint_runtime.database import utcnow
from complaint_runtime.errors import NotConfigured, NotFound
from complaint_runtime.signing_keys import SigningKey

from notify.adapters.channels import OutgoingEmail
from notify.adapters.internal_api import (
    CONTACT_BATCH_MAX,
    BadResponse,
    BatchUnsupported,
    CustomerContact,
    InternalApi,
)
from notify.config import NotifySettings
from notify.messages.domain.directory import NoRecipient, StaffDirectory, staff_recipient
from notify.messages.domain.promised_times import ahead, stored_due, wait_for_due_times
from notify.messages.domain.recipients import looks_like_address, masked_address, recipient_hash
from notify.messages.domain.template_context import LookedUp, message_context
from notify.messages.rendering import LANGUAGES, Renderer

log = structlog.get_logger(__name__)

ID_LENGTH = 36  # a complaint id (UUIDv7 as text): anything longer is looked up on its own


class Skip(Exception):
    """Nobody to send to (no address, no directory entry): recorded, not retried.

    ``reason`` is the contract's code when others act on the failure: ``no_channel`` for a
    customer no channel of notify reaches (e-mail only today), which routing and feedback
    turn into the team lead's task and a request "not reached" (Decision: unreachable
    customers)."""

    def __init__(self, message: str, *, reason: FailureReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class DueTimesPending(TransientError):
    """The acknowledgement waits a moment for the complaint's SLA clocks, so it can name
    the real due times: the delivery is tried again after ``retry_after_s``, a wait that is
    neither a failure nor an attempt (see :mod:`notify.messages.domain.promised_times`)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"waiting for the SLA due times ({retry_after_s:.2f} s)")
        self.retry_after_s = retry_after_s


class ClaimedDelivery(Protocol):
    """What preparing reads of a claimed delivery, and the recipient it records on it (the
    delivery log's row)."""

    @property
    def delivery_id(self) -> str: ...
    @property
    def complaint_id(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def recipient_role(self) -> str: ...
    @property
    def context(self) -> dict[str, Any]: ...

    recipient_user: str | None
    recipient_masked: str | None
    recipient_key: str | None
    language: str | None


@dataclass(frozen=True)
class _Recipient:
    address: str
    name: str | None
    language: str


@dataclass(frozen=True)
class _Failed:
    """What a delivery's own lookup would have raised: raised anew for each delivery."""

    kind: type[Exception]
    message: str


class PrefetchedContacts:
    """The intake contacts of one claimed batch, read before its deliveries are prepared and
    dropped with the round (never stored). Per complaint, the contact or what its own
    lookup would have raised: :class:`TransientError` (intake down or 5xx),
    :class:`NotFound` (intake does not know it), :class:`BadResponse` (an off-contract
    entry); a complaint not in it is looked up on its own."""

    def __init__(self, outcomes: Mapping[str, CustomerContact | _Failed] | None = None):
        self._outcomes = dict(outcomes or {})

    def __len__(self) -> int:
        return len(self._outcomes)

    def __contains__(self, complaint_id: object) -> bool:
        return complaint_id in self._outcomes

    def get(self, complaint_id: str) -> CustomerContact | None:
        """The prefetched contact, None when there is none; raises the lookup's error."""
        outcome = self._outcomes.get(complaint_id)
        if isinstance(outcome, _Failed):
            raise outcome.kind(outcome.message)
        return outcome


def contacts_needed(row: ClaimedDelivery) -> Iterator[str]:
    """The complaints whose intake contact preparing ``row`` reads: its own, and for a
    duplicate notice the complaint that stands."""
    yield row.complaint_id
    if row.template == "duplicate_notice":
        standing = row.context.get("duplicate_of")
        if isinstance(standing, str) and standing:
            yield standing


def recipient_hash_key(settings: NotifySettings) -> bytes:
    """NOTIFY_RECIPIENT_HASH_KEY, else a key derived from notify's own private key
    (AUTH_SIGNING_KEY, which no other service holds); :class:`NotConfigured` without
    either, so notify does not start hashing recipients with a guessable key."""
    if settings.notify_recipient_hash_key:
        return settings.notify_recipient_hash_key.encode()
    if not settings.auth_signing_key:
        raise NotConfigured(
            "Neither NOTIFY_RECIPIENT_HASH_KEY nor AUTH_SIGNING_KEY is set on notify.",
            kind="recipient-hash-key-not-configured",
        )
    # A sub-key of the private key, labelled: the hash reveals nothing of the key, and
    # rotating the key changes the hashes of later deliveries only.
    private = SigningKey.from_jwk(settings.auth_signing_key).private_key.private_bytes_raw()
    return hmac.new(private, b"notify recipient hash key", hashlib.sha256).digest()


class MessagePreparer:
    """Turns a claimed delivery into the e-mail to send; records the resolved recipient on
    the row (masked) and raises :class:`Skip` when there is nobody to send to."""

    def __init__(
        self,
        *,
        settings: NotifySettings,
        api: InternalApi,
        directory: StaffDirectory,
        renderer: Renderer,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._settings = settings
        self._api = api
        self._directory = directory
        self._renderer = renderer
        self._clock = clock
        self._hash_key = recipient_hash_key(settings)

    async def prefetch_contacts(self, rows: Sequence[ClaimedDelivery]) -> PrefetchedContacts:
        """The intake contacts every delivery of a claimed batch needs, each complaint asked
        once, in one request per :data:`CONTACT_BATCH_MAX` complaints.

        intake down or answering 5xx: every delivery that needed the request gets its
        :class:`TransientError`. An intake without the batch lookup, or an off-contract
        answer as a whole: nothing prefetched for those complaints, each delivery asks on
        its own (and gets today's answer)."""
        ids = list(
            dict.fromkeys(i for row in rows for i in contacts_needed(row) if len(i) <= ID_LENGTH)
        )
        chunks = [ids[n : n + CONTACT_BATCH_MAX] for n in range(0, len(ids), CONTACT_BATCH_MAX)]
        outcomes: dict[str, CustomerContact | _Failed] = {}
        for answered in await asyncio.gather(*(self._prefetch(chunk) for chunk in chunks)):
            outcomes.update(answered)
        return PrefetchedContacts(outcomes)

    async def _prefetch(self, ids: list[str]) -> dict[str, CustomerContact | _Failed]:
        try:
            batch = await self._api.customer_contacts(ids)
        except TransientError as exc:
            return dict.fromkeys(ids, _Failed(TransientError, str(exc)))
        except (BatchUnsupported, BadResponse) as exc:
            log.warning(
                "contacts looked up one by one",
                reason=f"{type(exc).__name__}: {exc}",
                complaints=len(ids),
            )
            return {}
        outcomes: dict[str, CustomerContact | _Failed] = dict(batch.found)
        for complaint_id in batch.not_found:
            outcomes[complaint_id] = _Failed(NotFound, "intake answered 404")
        for complaint_id, reason in batch.bad.items():
            outcomes[complaint_id] = _Failed(BadResponse, reason)
        return outcomes

    async def prepare(
        self, *, row: ClaimedDelivery, contacts: PrefetchedContacts | None = None
    ) -> OutgoingEmail:
        """Resolve the recipient just in time and render the message; nothing is stored.

        The customer's contact comes from ``contacts`` (the batch's, read just before)
        when it holds the complaint, else from its own lookup at intake. What was resolved
        before a failure stays on the row (the staff member, the masked address), so a
        skipped or failed delivery's log entry says whom it was for. An acknowledgement
        whose clocks are not armed yet raises :class:`DueTimesPending`.
        """
        contact = await self._contact(row.complaint_id, contacts)
        recipient = self._recipient(row, contact)
        now = self._clock()
        first_response_due = stored_due(row.context, "first_response")
        first_response_due = first_response_due or contact.first_response_due_at
        if row.template == "acknowledgement":
            wait = wait_for_due_times(
                first_response_due_at=first_response_due,
                clocks_expected=contact.clocks_expected,
                received_at=contact.received_at,
                now=now,
                window_s=self._settings.ack_wait_for_due_s,
            )
            if wait is not None:
                raise DueTimesPending(wait)
        language = recipient.language if recipient.language in LANGUAGES else "zh-CN"
        row.recipient_masked = masked_address(recipient.address)
        row.recipient_key = recipient_hash(key=self._hash_key, address=recipient.address)
        row.language = language
        context = message_context(
            template=row.template,
            stored=row.context,
            looked_up=await self._looked_up(
                row, contact, recipient.name, language, now=now, contacts=contacts
            ),
            zone=self._settings.notify_display_timezone,
        )
        message = self._renderer.render(template=row.template, language=language, context=context)
        return OutgoingEmail(
            delivery_id=row.delivery_id,
            to_address=recipient.address.strip(),
            to_name=recipient.name,
            subject=message.subject,
            body=message.body,
            template=row.template,
            language=language,
        )

    async def _contact(
        self, complaint_id: str, contacts: PrefetchedContacts | None
    ) -> CustomerContact:
        prefetched = contacts.get(complaint_id) if contacts is not None else None
        if prefetched is not None:
            return prefetched
        return await self._api.customer_contact(complaint_id)

    def _recipient(self, row: ClaimedDelivery, contact: CustomerContact) -> _Recipient:
        """The customer from intake's answer, staff from the directory (the member found is
        recorded on the row); :class:`Skip` when there is no usable address."""
        if row.recipient_role == "customer":
            if contact.email is None or not looks_like_address(contact.email):
                raise Skip(
                    "the customer has no e-mail address (other channels come later)",
                    reason="no_channel",
                )
            return _Recipient(contact.email, contact.name, contact.language)
        user_id = row.recipient_user
        if row.recipient_role == "agent" and user_id is None:
            # An event that does not name the agent (a withdrawal's closure): the assignee
            # intake knows now, just in time like the customer's contacts.
            if contact.assignee is None:
                raise Skip("the complaint has no assignee to tell")
            user_id = contact.assignee
        try:
            member = staff_recipient(
                self._directory, role=row.recipient_role, team=contact.team, user_id=user_id
            )
        except NoRecipient as exc:
            raise Skip(str(exc)) from exc
        row.recipient_user = member.user_id
        if member.email is None or not looks_like_address(member.email):
            raise Skip(f"user {member.user_id} has no e-mail address in the staff directory")
        return _Recipient(member.email, member.name, member.language)

    async def _looked_up(
        self,
        row: ClaimedDelivery,
        contact: CustomerContact,
        recipient_name: str | None,
        language: str,
        *,
        now: datetime,
        contacts: PrefetchedContacts | None,
    ) -> LookedUp:
        survey_url = survey_expires = None
        opt_out_url = None
        if row.template == "survey_invitation":
            link = await self._api.survey_link(str(row.context.get("request_id")))
            survey_url, survey_expires = link.survey_url, link.expires_at
        elif row.template == "nps_invitation":
            nps = await self._api.nps_link(str(row.context.get("request_id")))
            survey_url, survey_expires, opt_out_url = nps.nps_url, nps.expires_at, nps.opt_out_url
        standing = None
        if row.template == "duplicate_notice":
            # The reference of the complaint that stands, also just in time. Its tracking
            # link is not passed on: a duplicate may have matched on one identifier only,
            # so its address need not be the one the standing complaint's link went to.
            standing = await self._contact(str(row.context.get("duplicate_of")), contacts)
        code = None
        if row.template == "tracking_code":
            # Read once: intake drops its only readable copy with this answer.
            request_id = str(row.context.get("request_id"))
            code = await self._api.tracking_code(row.complaint_id, request_id)
        return LookedUp(
            reference=contact.reference,
            recipient_name=recipient_name,
            language=language,
            team=contact.team,
            tracking_url=contact.tracking_url,
            survey_url=survey_url,
            survey_expires_at=survey_expires,
            opt_out_url=opt_out_url,
            priority=contact.priority,
            case_url=self._case_url(row.complaint_id),
            standing_reference=standing.reference if standing else None,
            first_response_due_at=ahead(
                stored_due(row.context, "first_response") or contact.first_response_due_at,
                now=now,
            ),
            resolution_due_at=ahead(
                stored_due(row.context, "resolution") or contact.resolution_due_at, now=now
            ),
            timezone=contact.timezone,
            tracking_code=code.code if code else None,
            code_expires_at=code.expires_at if code else None,
        )

    def _case_url(self, complaint_id: str) -> str | None:
        template = self._settings.notify_staff_case_url
        return template.replace("{complaint_id}", complaint_id) if template else None
