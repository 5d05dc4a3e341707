"""Customers' replies: received (by e-mail through the SMTP endpoint, by SMS through the
provider's push), committed to ``inbound_replies``, then forwarded to intake.

* :func:`read_email` parses an inbound e-mail and extracts the reply's words (CPU only:
  the SMTP endpoint runs it off the event loop), :func:`receive_email` stores the reply
  to a valid reply address, or records a bounce from a delivery status notification; it
  commits before it returns, so the endpoint answers 250 only for what is safely stored.
* :func:`receive_sms` stores an SMS reply on the complaint of the latest SMS delivery to
  that number, or records an unsubscribe ("TD", "退订", "STOP", "UNSUBSCRIBE").
* :func:`forward_due` offers due replies to intake: forwarded once (intake's idempotency
  on notify's reply id covers a crash between its answer and our commit), retried with
  back-off while intake is down (never dropped), refused for good with intake's reason
  (withdrawn, erased, unknown). The text is blanked once intake has answered. A 422 means
  intake found the text itself invalid, which notify should have prevented: it is logged
  as an error (an alert), and is final too.

A reply's text is stored without control characters (:func:`storable_text`): intake
refuses them in a message, and PostgreSQL cannot store NUL.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Literal

import structlog
import uuid_utils
from complaint_runtime.consumer import TransientError
from complaint_runtime.database import Database
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.internal_api import InternalApi
from notify.deliveries.db import Delivery
from notify.messages.domain.recipients import phone_hash
from notify.replies.addressing import ReplyAddressing
from notify.replies.db import InboundReply, InboundReplyRepository
from notify.replies.domain.bounces import bounced_delivery_id, is_delivery_report
from notify.replies.domain.sms import InboundSms, is_unsubscribe
from notify.replies.domain.text import reply_text, storable_text
from notify.suppressions.service import record_bounce, suppress

EmailOutcome = Literal["stored", "duplicate", "bounce", "ignored"]
MAX_EXTERNAL_ID = 200
MAX_ERROR = 200
# A reply is claimed for this long while it is being offered to intake: a process that
# dies meanwhile leaves it to be offered again afterwards (intake adds it once).
CLAIM_S = 60.0

log = structlog.get_logger(__name__)


def parse_email(raw: bytes) -> Message:
    return BytesParser(policy=policy.default).parsebytes(raw)


def is_automatic(message: Message) -> bool:
    """Out-of-office answers and other machine replies are not the customer's words (and
    answering them could loop)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return auto not in ("", "no") or precedence in ("bulk", "junk", "auto_reply", "list")


def external_id_of(message: Message, raw: bytes) -> str:
    """The Message-ID (a resent copy of the same e-mail has the same one), else a digest."""
    found = str(message.get("Message-ID", "")).strip()
    if found and len(found) <= MAX_EXTERNAL_ID:
        return found
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class InboundEmail:
    """What an inbound e-mail means, read from its bytes: a bounce report (and the
    delivery it is about, if one of ours), or a reply's words."""

    is_report: bool
    bounced_delivery_id: str | None
    text: str
    automatic: bool
    external_id: str


def read_email(raw: bytes) -> InboundEmail:
    """Parse ``raw`` and extract what :func:`receive_email` needs. Pure CPU work, bounded
    by the size of ``raw``: the SMTP endpoint runs it in a worker thread."""
    message = parse_email(raw)
    if is_delivery_report(message):
        return InboundEmail(
            is_report=True,
            bounced_delivery_id=bounced_delivery_id(message),
            text="",
            automatic=False,
            external_id="",
        )
    return InboundEmail(
        is_report=False,
        bounced_delivery_id=None,
        text=reply_text(message),
        automatic=is_automatic(message),
        external_id=external_id_of(message, raw),
    )


async def receive_email(
    *,
    database: Database,
    addressing: ReplyAddressing,
    recipients: Sequence[str],
    email: InboundEmail,
    now: datetime,
) -> EmailOutcome:
    """Store (and commit) what an accepted inbound e-mail means; see the module."""
    if email.is_report:
        if email.bounced_delivery_id is None:
            return "ignored"  # a delay, or not about one of our messages
        async with database.unit_of_work() as uow:
            await record_bounce(session=uow.session, delivery_id=email.bounced_delivery_id, now=now)
        return "bounce"
    complaints = list(dict.fromkeys(filter(None, map(addressing.complaint_of, recipients))))
    if not complaints or not email.text or email.automatic:
        return "ignored"
    stored = False
    async with database.unit_of_work() as uow:
        for complaint_id in complaints:
            stored |= await store_reply(
                uow.session,
                complaint_id=complaint_id,
                channel="email",
                external_id=email.external_id,
                text=email.text,
                now=now,
            )
    return "stored" if stored else "duplicate"


async def store_reply(
    session: AsyncSession,
    *,
    complaint_id: str,
    channel: str,
    external_id: str,
    text: str,
    now: datetime,
) -> bool:
    """Stage a received reply (pending, due now), its text without control characters;
    False when it was stored before."""
    return await InboundReplyRepository(session).add_if_new(
        {
            "reply_id": str(uuid_utils.uuid7()),
            "complaint_id": complaint_id,
            "channel": channel,
            "external_id": external_id[:MAX_EXTERNAL_ID],
            "text": storable_text(text),
            "received_at": now,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
    )


@dataclass(frozen=True)
class SmsReceived:
    stored: int = 0
    unsubscribed: int = 0
    ignored: int = 0


async def receive_sms(
    *, database: Database, hash_key: bytes, messages: Sequence[InboundSms], now: datetime
) -> SmsReceived:
    """Store the SMS replies of one push (one transaction; the raw number is only hashed).
    A reply from a number notify never sent an SMS to is ignored."""
    stored = unsubscribed = ignored = 0
    async with database.unit_of_work() as uow:
        for sms in messages:
            # The same keyed hash the preparer stored on the SMS delivery to this number.
            key = phone_hash(key=hash_key, phone=sms.phone_number)
            if is_unsubscribe(sms.content):
                await suppress(
                    session=uow.session,
                    recipient_key=key,
                    channel="sms",
                    reason="unsubscribe",
                    detail=f"SMS keyword (sequence {sms.sequence_id})",
                    now=now,
                )
                unsubscribed += 1
                continue
            complaint_id = await _latest_sms_complaint(uow.session, key)
            text = storable_text(sms.content).strip()
            if complaint_id is None or not text:
                ignored += 1
                continue
            new = await store_reply(
                uow.session,
                complaint_id=complaint_id,
                channel="sms",
                external_id=f"sms:{sms.sequence_id}",
                text=text,
                now=now,
            )
            stored += int(new)
    return SmsReceived(stored=stored, unsubscribed=unsubscribed, ignored=ignored)


async def _latest_sms_complaint(session: AsyncSession, recipient_key: str) -> str | None:
    query = (
        select(Delivery.complaint_id)
        .where(Delivery.recipient_key == recipient_key, Delivery.channel == "sms")
        .order_by(Delivery.created_at.desc(), Delivery.delivery_id.desc())
        .limit(1)
    )
    found: str | None = await session.scalar(query)
    return found


@dataclass(frozen=True)
class Backoff:
    base_s: float
    max_s: float
    rng: Callable[[], float] = random.random

    def delay(self, attempts: int) -> timedelta:
        """Exponential in the attempts, capped, with jitter (half to all of it)."""
        ceiling = min(self.max_s, self.base_s * 2 ** min(attempts - 1, 30))
        return timedelta(seconds=ceiling * (0.5 + 0.5 * self.rng()))


async def forward_due(
    *,
    database: Database,
    api: InternalApi,
    backoff: Backoff,
    now: Callable[[], datetime],
    limit: int = 20,
) -> bool:
    """One round of the forwarder; True when there may be more due right now."""
    claimed = await _claim(database, now=now(), limit=limit)
    for index, reply in enumerate(claimed):
        try:
            answer = await api.forward_reply(
                reply.complaint_id,
                text=reply.text,
                channel=reply.channel,
                external_id=reply.reply_id,
                received_at=reply.received_at,
            )
        except TransientError as exc:
            # intake is not there: this one and the rest of the round wait, none is lost.
            await _postpone(database, claimed[index:], error=str(exc), backoff=backoff, now=now())
            return False
        async with database.unit_of_work() as uow:
            row = await uow.session.get(InboundReply, reply.reply_id)
            if row is None or row.status != "pending":
                continue  # erased meanwhile
            row.attempts += 1
            row.text = ""  # intake has the words now, or refused them for good
            row.finished_at = now()
            if answer.refusal is None:
                row.status, row.message_id = "forwarded", answer.message_id
                row.last_error = None
            else:
                row.status, row.last_error = "refused", answer.refusal[:MAX_ERROR]
                _log_refusal(row.reply_id, answer.refusal)
    return len(claimed) == limit


def _log_refusal(reply_id: str, refusal: str) -> None:
    """A 422 says intake found the text invalid: a reply lost through notify's fault, so
    an error (an alert); other refusals (withdrawn, erased) are the expected kind."""
    if refusal.startswith("422"):
        log.error("intake refused a reply as invalid", reply_id=reply_id, refusal=refusal)
    else:
        log.info("intake refused a reply", reply_id=reply_id, refusal=refusal)


@dataclass(frozen=True)
class _Claimed:
    reply_id: str
    complaint_id: str
    channel: str
    text: str
    received_at: datetime


async def _claim(database: Database, *, now: datetime, limit: int) -> list[_Claimed]:
    async with database.sessions() as session:
        if not await InboundReplyRepository(session).any_due(now=now):
            return []  # the usual round: no write transaction at all
    async with database.unit_of_work() as uow:
        rows = await InboundReplyRepository(uow.session).claim_due(now=now, limit=limit)
        for row in rows:
            row.next_attempt_at = now + timedelta(seconds=CLAIM_S)
        return [
            _Claimed(r.reply_id, r.complaint_id, r.channel, r.text, r.received_at) for r in rows
        ]


async def _postpone(
    database: Database,
    replies: Sequence[_Claimed],
    *,
    error: str,
    backoff: Backoff,
    now: datetime,
) -> None:
    async with database.unit_of_work() as uow:
        for reply in replies:
            row = await uow.session.get(InboundReply, reply.reply_id)
            if row is None or row.status != "pending":
                continue
            row.attempts += 1
            row.last_error = error[:MAX_ERROR]
            row.next_attempt_at = now + backoff.delay(row.attempts)


async def erase_replies(session: AsyncSession, *, complaint_id: str) -> None:
    """The complaint's customer was erased: notify keeps none of their replies (§10)."""
    await InboundReplyRepository(session).delete_of_complaint(complaint_id)
