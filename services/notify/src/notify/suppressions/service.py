"""Suppressions: record a bounce or an unsubscribe for a recipient (by notify's keyed hash
of the address, never the address) and channel, and tell the preparer whether a message
may still go to that recipient.

Recording is idempotent (the first cause stays). A delivery whose recipient was erased
(no recipient key any more) cannot be suppressed: there is nobody left to name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from complaint_runtime.database import Database
from complaint_runtime.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from notify.deliveries.db import Delivery
from notify.suppressions.db import SuppressionRepository
from notify.suppressions.domain.rules import Reason, suppression_applies


def channel_of(delivery: Delivery) -> str:
    """The channel a customer delivery's recipient key is an address of."""
    return "sms" if delivery.channel == "sms" else "email"


async def suppression_for(
    *, session: AsyncSession, recipient_key: str, channel: str, template: str
) -> str | None:
    """The reason (``bounce`` first) a message of ``template`` must not go to this
    recipient on ``channel``; None when it may go."""
    reasons = await SuppressionRepository(session).reasons(
        recipient_key=recipient_key, channel=channel
    )
    for reason in reasons:  # alphabetical: bounce before unsubscribe
        if suppression_applies(reason, template):
            return reason
    return None


async def suppress(
    *,
    session: AsyncSession,
    recipient_key: str,
    channel: str,
    reason: Reason,
    detail: str,
    now: datetime,
) -> bool:
    """Record it in the caller's transaction; False when it was already recorded."""
    return await SuppressionRepository(session).add(
        recipient_key=recipient_key, channel=channel, reason=reason, detail=detail, now=now
    )


async def record_bounce(*, session: AsyncSession, delivery_id: str, now: datetime) -> bool:
    """A permanent bounce of one of notify's e-mails: every later e-mail to that address is
    suppressed. False when the delivery is unknown, erased or already suppressed."""
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None or not delivery.recipient_key:
        return False
    return await suppress(
        session=session,
        recipient_key=delivery.recipient_key,
        channel="email",
        reason="bounce",
        detail=f"bounce of delivery {delivery_id}",
        now=now,
    )


@dataclass(frozen=True)
class Unsubscribed:
    delivery_id: str
    channel: str
    new: bool


async def names_recipient(*, database: Database, delivery_id: str) -> bool:
    """Whether an unsubscribe link's delivery still names a recipient (known, not erased)."""
    async with database.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        return delivery is not None and bool(delivery.recipient_key)


async def unsubscribe(*, database: Database, delivery_id: str, now: datetime) -> Unsubscribed:
    """The recipient of ``delivery_id`` (named by a verified token) gets no more
    non-transactional messages on its channel. :class:`NotFound` when the delivery is
    unknown or its recipient was erased."""
    async with database.unit_of_work() as uow:
        delivery = await uow.session.get(Delivery, delivery_id)
        if delivery is None or not delivery.recipient_key:
            raise NotFound("This link no longer names a recipient.")
        channel = channel_of(delivery)
        new = await suppress(
            session=uow.session,
            recipient_key=delivery.recipient_key,
            channel=channel,
            reason="unsubscribe",
            detail=f"unsubscribe link of delivery {delivery_id}",
            now=now,
        )
    return Unsubscribed(delivery_id=delivery_id, channel=channel, new=new)
