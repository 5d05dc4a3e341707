"""What the delivery loop hands to a channel, besides e-mail (:class:`OutgoingEmail`): an SMS
or a staff notice for a team's group-chat robot, and what a channel answers when it took a
message.

Every sender raises :class:`notify.adapters.channels.SendError` when a message was not
(certainly) taken: ``retryable`` (nothing went out, try again later), final (refused for
good: the delivery may fall back to the next channel), or ``uncertain`` (it may have gone
out: never repeated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from complaint_contracts.events.notify import NotificationChannel

from notify.robots.domain.notice import StaffNotice


@dataclass(frozen=True)
class OutgoingSms:
    """One customer SMS. ``phone_number`` is as intake holds it (the sender normalises it
    and refuses one that is not a mobile number); ``text`` is notify's own rendering (what
    the preview and a development provider show, and what segments are counted on);
    ``params`` are the provider template's parameters."""

    delivery_id: str
    complaint_id: str
    phone_number: str
    template: str
    language: str
    text: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingRobotNotice:
    """One staff notice to the group chat of ``team`` (its robot is configured per team)."""

    delivery_id: str
    complaint_id: str
    team: str
    template: str
    notice: StaffNotice


@dataclass(frozen=True)
class SendReceipt:
    """A channel took the message: which channel it really was (a robot's vendor), and the
    provider's id for it when it gave one (an SMS's, matched by its delivery receipt)."""

    channel: NotificationChannel
    provider_message_id: str | None = None


MessageT_contra = TypeVar("MessageT_contra", contravariant=True)


class Sender(Protocol[MessageT_contra]):
    """A channel other than e-mail."""

    async def send(self, message: MessageT_contra) -> SendReceipt: ...

    async def aclose(self) -> None: ...
