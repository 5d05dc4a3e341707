"""Just-in-time preparation of one delivery: resolve the recipient and the channel, render
the message for that channel.

Customers' contacts are looked up from intake only when a claimed delivery is about to be
sent (the batch's in one request first, see :mod:`notify.messages.lookups`), and only a
masked address and a keyed hash of it are stored. The channel is the customer's preferred
one, else the next of ``NOTIFY_CHANNEL_ORDER`` that reaches them
(:mod:`notify.messages.domain.channel_choice`); a non-urgent SMS in the customer's quiet
hours is held (:mod:`notify.messages.domain.quiet_hours`).

Staff notices (to a person by e-mail, or to a team's group-chat robot) are written from
notify's own facts of the complaint (its reference, team, assignee, priority, recorded from
the complaint's events): they never read the customer's contacts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from complaint_contracts.events.notify import FailureReason
from complaint_runtime.consumer import TransientError
from complaint_runtime.database import utcnow
from complaint_runtime.errors import NotFound

from notify.adapters.channels import OutgoingEmail
from notify.adapters.internal_api import CustomerContact, InternalApi
from notify.adapters.outgoing import OutgoingRobotNotice, OutgoingSms
from notify.config import NotifySettings
from notify.messages.domain import channel_choice, quiet_hours
from notify.messages.domain.directory import NoRecipient, StaffDirectory, staff_recipient
from notify.messages.domain.promised_times import ahead, stored_due, wait_for_due_times
from notify.messages.domain.recipients import (
    looks_like_address,
    masked_address,
    masked_phone,
    phone_hash,
    recipient_hash,
)
from notify.messages.domain.template_context import LookedUp, message_context
from notify.messages.lookups import (
    ContactPrefetcher,
    NeedsContacts,
    PrefetchedContacts,
    contacts_needed,
    recipient_hash_key,
)
from notify.messages.rendering import LANGUAGES, Renderer, TemplateMissing
from notify.robots.domain.notice import StaffNotice
from notify.suppressions.domain.rules import is_non_transactional

__all__ = [
    "ClaimedDelivery",
    "ComplaintFacts",
    "DueTimesPending",
    "FactsPending",
    "HeldForQuietHours",
    "MessagePreparer",
    "NoChannelLeft",
    "Outgoing",
    "PrefetchedContacts",
    "Skip",
    "contacts_needed",
    "recipient_hash_key",
]

Outgoing = OutgoingEmail | OutgoingSms | OutgoingRobotNotice
# (recipient hash, channel, template) → why the channel must not carry it, or None.
SuppressionCheck = Callable[[str, str, str], Awaitable[str | None]]


class Skip(Exception):
    """Nobody to send to (no address, no directory entry): recorded, not retried.

    ``reason`` is the contract's code when others act on the failure: ``no_channel`` for a
    customer no channel of notify reaches, which routing and feedback turn into the team
    lead's task and a request "not reached" (Decision: unreachable customers)."""

    def __init__(self, message: str, *, reason: FailureReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class NoChannelLeft(Exception):
    """Every channel that could reach the customer refused this message for good: the
    delivery fails for good (``no_channel``)."""


class DueTimesPending(TransientError):
    """The acknowledgement waits a moment for the complaint's SLA clocks, so it can name
    the real due times: the delivery is tried again after ``retry_after_s``, a wait that is
    neither a failure nor an attempt (see :mod:`notify.messages.domain.promised_times`)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"waiting for the SLA due times ({retry_after_s:.2f} s)")
        self.retry_after_s = retry_after_s


class FactsPending(DueTimesPending):
    """A staff notice whose complaint notify has not heard of yet (its ``complaint.received``
    or ``complaint.assigned`` travels on another topic and may come a moment later): tried
    again shortly, like the acknowledgement waiting for its due times, for at most
    :data:`FACTS_WAIT_S` after the notice was planned; then it goes with what is known."""

    def __init__(self, retry_after_s: float, missing: str) -> None:
        super().__init__(retry_after_s)
        self.args = (f"waiting for the complaint's {missing} ({retry_after_s:.2f} s)",)


# How long a staff notice waits for the complaint's facts from the other topics.
FACTS_WAIT_S = 60.0
FACTS_RETRY_S = 1.0


class HeldForQuietHours(Exception):
    """A non-urgent SMS in the customer's quiet hours: sent at ``until`` (no attempt)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"held for the customer's quiet hours until {until.isoformat()}")
        self.until = until


class ClaimedDelivery(NeedsContacts, Protocol):
    """What preparing reads of a claimed delivery, and what it records on it (the delivery
    log's row): the recipient, masked, and the channel chosen."""

    @property
    def delivery_id(self) -> str: ...
    @property
    def failed_channels(self) -> list[str] | None: ...
    @property
    def created_at(self) -> datetime: ...

    recipient_user: str | None
    recipient_masked: str | None
    recipient_key: str | None
    language: str | None
    channel: str | None


class ComplaintFacts(Protocol):
    """What notify recorded of a complaint from its events (``notify.teams``)."""

    @property
    def reference(self) -> str | None: ...
    @property
    def team(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def priority(self) -> str | None: ...


class EmailAddressing(Protocol):
    """Where a customer's reply and an unsubscribe go (``notify.replies.addressing``)."""

    def reply_address(self, complaint_id: str) -> str | None: ...

    def unsubscribe_url(self, delivery_id: str) -> str | None: ...


class MessagePreparer:
    """Turns a claimed delivery into the message to send on its channel; records the
    resolved recipient and channel on the row and raises :class:`Skip` when there is
    nobody to send to."""

    def __init__(
        self,
        *,
        settings: NotifySettings,
        api: InternalApi,
        directory: StaffDirectory,
        renderer: Renderer,
        clock: Callable[[], datetime] = utcnow,
        sms_enabled: bool = False,
        robot_channel: Callable[[str | None], str | None] | None = None,
        suppression: SuppressionCheck | None = None,
        addressing: EmailAddressing | None = None,
    ):
        self._settings = settings
        self._api = api
        self._directory = directory
        self._renderer = renderer
        self._clock = clock
        self._hash_key = recipient_hash_key(settings)
        self._prefetcher = ContactPrefetcher(api)
        self._order = channel_choice.parse_order(settings.notify_channel_order)
        self._quiet = quiet_hours.parse_quiet_hours(settings.notify_quiet_hours)
        self._sms_enabled = sms_enabled
        self._robot_channel = robot_channel
        self._suppression = suppression
        self._addressing = addressing

    async def prefetch_contacts(self, rows: Any) -> PrefetchedContacts:
        """See :meth:`ContactPrefetcher.prefetch_contacts`."""
        return await self._prefetcher.prefetch_contacts(rows)

    async def prepare(
        self,
        *,
        row: ClaimedDelivery,
        contacts: PrefetchedContacts | None = None,
        facts: Mapping[str, ComplaintFacts] | None = None,
    ) -> Outgoing:
        """Resolve the recipient and channel just in time and render the message; nothing
        is stored but the masked recipient and the channel on the row.

        A customer's contact comes from ``contacts`` (the batch's, read just before) when
        it holds the complaint, else from its own lookup at intake; staff notices read
        ``facts`` only. What was resolved before a failure stays on the row (the staff
        member, the masked address, the channel), so a skipped or failed delivery's log
        entry says whom it was for. An acknowledgement whose clocks are not armed yet
        raises :class:`DueTimesPending`; a held SMS :class:`HeldForQuietHours`.
        """
        known = (facts or {}).get(row.complaint_id)
        if row.recipient_role != "customer":
            self._await_facts(row, known)
        if row.recipient_role == "team_chat":
            return self._team_notice(row, known)
        if row.recipient_role != "customer":
            return self._staff_email(row, known)
        return await self._customer_message(row, contacts)

    # -- customers ---------------------------------------------------------------------

    async def _customer_message(
        self, row: ClaimedDelivery, contacts: PrefetchedContacts | None
    ) -> Outgoing:
        contact = await self._contact(row.complaint_id, contacts)
        now = self._clock()
        if row.template == "acknowledgement":
            wait = wait_for_due_times(
                first_response_due_at=(
                    stored_due(row.context, "first_response") or contact.first_response_due_at
                ),
                clocks_expected=contact.clocks_expected,
                received_at=contact.received_at,
                now=now,
                window_s=self._settings.ack_wait_for_due_s,
            )
            if wait is not None:
                raise DueTimesPending(wait)
        language = contact.language if contact.language in LANGUAGES else "zh-CN"
        row.language = language
        channel = await self._customer_channel(row, contact)
        if channel == "sms":
            held = quiet_hours.held_until(
                now=now,
                quiet=self._quiet,
                zone=quiet_hours.zone_of(
                    contact.timezone, default=self._settings.notify_display_timezone
                ),
                channel=channel,
                template=row.template,
                priority=contact.priority,
            )
            if held is not None:
                raise HeldForQuietHours(held)
        looked_up = await self._looked_up(row, contact, contact.name, language, now, contacts)
        context = self._context(row, looked_up)
        if channel == "sms":
            sms = self._renderer.render_sms(
                template=row.template, language=language, context=context
            )
            return OutgoingSms(
                delivery_id=row.delivery_id,
                complaint_id=row.complaint_id,
                phone_number=(contact.phone or "").strip(),  # chosen only with a number
                template=row.template,
                language=language,
                text=sms.text,
                params=sms.params,
            )
        email = self._email(row, contact.email or "", contact.name, language, context)
        if self._addressing is None:
            return email
        # A reply comes back to the complaint; a message the customer may refuse carries
        # its one-click unsubscribe link (RFC 8058).
        unsubscribe = (
            self._addressing.unsubscribe_url(row.delivery_id)
            if is_non_transactional(row.template)
            else None
        )
        return replace(
            email,
            reply_to=self._addressing.reply_address(row.complaint_id),
            unsubscribe_url=unsubscribe,
        )

    async def _customer_channel(self, row: ClaimedDelivery, contact: CustomerContact) -> str:
        """The channel for this message (recorded on the row with the recipient, masked);
        :class:`Skip` (no_channel) when none reaches the customer,
        :class:`NoChannelLeft` when every one that did refused it for good."""
        unusable: dict[str, str] = {}
        if not looks_like_address(contact.email):
            unusable["email"] = "no e-mail address"
        if not self._sms_enabled:
            unusable["sms"] = "no SMS provider configured"
        elif not (contact.phone or "").strip():
            unusable["sms"] = "no phone number"
        elif not self._renderer.languages_of(template=row.template, channel="sms"):
            unusable["sms"] = "this message has no SMS version"
        failed = row.failed_channels or ()
        while True:
            choice = channel_choice.choose(
                preferred=contact.preferred_channel,
                order=self._order,
                unusable=unusable,
                failed=failed,
            )
            if choice.channel is None:
                why = channel_choice.explain(choice, contact.preferred_channel)
                if failed:
                    raise NoChannelLeft(why)
                raise Skip(why, reason="no_channel")
            self._record_customer(row, contact, choice.channel)
            suppressed = await self._suppressed(row, choice.channel)
            if suppressed is None:
                return choice.channel
            unusable[choice.channel] = f"suppressed ({suppressed})"

    def _record_customer(
        self, row: ClaimedDelivery, contact: CustomerContact, channel: str
    ) -> None:
        row.channel = channel
        if channel == "sms":
            phone = contact.phone or ""
            row.recipient_masked = masked_phone(phone)
            row.recipient_key = phone_hash(key=self._hash_key, phone=phone)
        else:
            email = contact.email or ""
            row.recipient_masked = masked_address(email)
            row.recipient_key = recipient_hash(key=self._hash_key, address=email)

    async def _suppressed(self, row: ClaimedDelivery, channel: str) -> str | None:
        if self._suppression is None or row.recipient_key is None:
            return None
        return await self._suppression(row.recipient_key, channel, row.template)

    async def _contact(
        self, complaint_id: str, contacts: PrefetchedContacts | None
    ) -> CustomerContact:
        prefetched = contacts.get(complaint_id) if contacts is not None else None
        if prefetched is not None:
            return prefetched
        return await self._api.customer_contact(complaint_id)

    # -- staff ---------------------------------------------------------------------------

    def _await_facts(self, row: ClaimedDelivery, facts: ComplaintFacts | None) -> None:
        """:class:`FactsPending` while a young staff notice lacks what it needs of the
        complaint: its reference, and its team unless the notice names its person."""
        needs_team = row.recipient_role in ("team_lead", "manager", "team_chat")
        if row.template == "assignment":
            needs_team = False  # the assignment carries its team
        missing = [
            name
            for name, absent in (
                ("reference", facts is None or facts.reference is None),
                ("team", needs_team and (facts is None or facts.team is None)),
            )
            if absent
        ]
        if not missing:
            return
        age = (self._clock() - row.created_at).total_seconds()
        if age < FACTS_WAIT_S:
            raise FactsPending(FACTS_RETRY_S, " and ".join(missing))

    def _staff_email(self, row: ClaimedDelivery, facts: ComplaintFacts | None) -> OutgoingEmail:
        """A person on the staff, from the directory (the member found is recorded on the
        row); :class:`Skip` when there is no usable address."""
        row.channel = "email"
        user_id = row.recipient_user
        team = facts.team if facts else None
        if row.recipient_role == "agent" and user_id is None:
            # An event that does not name the agent (a withdrawal's closure): the assignee
            # notify recorded from the complaint's last assignment.
            user_id = facts.assignee if facts else None
            if user_id is None:
                raise Skip("the complaint has no assignee to tell")
        try:
            member = staff_recipient(
                self._directory, role=row.recipient_role, team=team, user_id=user_id
            )
        except NoRecipient as exc:
            raise Skip(str(exc)) from exc
        row.recipient_user = member.user_id
        if member.email is None or not looks_like_address(member.email):
            raise Skip(f"user {member.user_id} has no e-mail address in the staff directory")
        language = member.language if member.language in LANGUAGES else "zh-CN"
        row.language = language
        row.recipient_masked = masked_address(member.email)
        row.recipient_key = recipient_hash(key=self._hash_key, address=member.email)
        context = self._context(row, self._staff_facts(row, facts, member.name, language))
        return self._email(row, member.email, member.name, language, context)

    def _team_notice(
        self, row: ClaimedDelivery, facts: ComplaintFacts | None
    ) -> OutgoingRobotNotice:
        """A card for the group chat of the complaint's team (its robot)."""
        team = (row.context.get("team") if row.template == "assignment" else None) or (
            facts.team if facts else None
        )
        if not isinstance(team, str) or not team:
            raise Skip("the complaint has no team yet: no group chat to tell")
        row.recipient_masked = f"team:{team}"[:320]
        channel = self._robot_channel(team) if self._robot_channel is not None else None
        if channel is None:
            raise Skip(f"no group-chat robot is configured for team {team}")
        row.channel = channel
        case_url = self._case_url(row.complaint_id)
        if case_url is None:
            raise Skip("NOTIFY_STAFF_CASE_URL is empty: a robot card needs the case's link")
        language = self._settings.notify_default_staff_language
        row.language = language
        context = self._context(row, self._staff_facts(row, facts, None, language))
        rendered = self._renderer.render_notice(
            template=row.template, language=language, context=context
        )
        notice = StaffNotice(
            title=rendered.title,
            lines=rendered.lines,
            case_url=case_url,
            severity=rendered.severity,
            language="en" if language == "en" else "zh-CN",
        )
        return OutgoingRobotNotice(
            delivery_id=row.delivery_id,
            complaint_id=row.complaint_id,
            team=team,
            template=row.template,
            notice=notice,
        )

    def _staff_facts(
        self,
        row: ClaimedDelivery,
        facts: ComplaintFacts | None,
        recipient_name: str | None,
        language: str,
    ) -> LookedUp:
        # A complaint received before notify recorded references shows its id's start.
        reference = (facts.reference if facts else None) or row.complaint_id[:8]
        return LookedUp(
            reference=reference,
            recipient_name=recipient_name,
            language=language,
            team=facts.team if facts else None,
            priority=facts.priority if facts else None,
            case_url=self._case_url(row.complaint_id),
        )

    # -- rendering -----------------------------------------------------------------------

    def _context(self, row: ClaimedDelivery, looked_up: LookedUp) -> dict[str, Any]:
        return message_context(
            template=row.template,
            stored=row.context,
            looked_up=looked_up,
            zone=self._settings.notify_display_timezone,
        )

    def _email(
        self,
        row: ClaimedDelivery,
        address: str,
        name: str | None,
        language: str,
        context: dict[str, Any],
    ) -> OutgoingEmail:
        message = self._renderer.render(template=row.template, language=language, context=context)
        return OutgoingEmail(
            delivery_id=row.delivery_id,
            to_address=address.strip(),
            to_name=name,
            subject=message.subject,
            body=message.body,
            template=row.template,
            language=language,
        )

    async def _looked_up(
        self,
        row: ClaimedDelivery,
        contact: CustomerContact,
        recipient_name: str | None,
        language: str,
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


# Raised by a lookup and handled by the delivery loop like the others above.
__all__ += ["NotFound", "TemplateMissing"]
