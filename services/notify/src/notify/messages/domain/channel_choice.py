"""Which channel carries a customer's message (requirements §8): the customer's preferred
channel, else the configured fallback order, skipping every channel that cannot reach them
now (no address for it, no adapter for it, suppressed for this message) and every channel
that already refused this message for good.

One delivery row is one notice to one recipient for one event, whatever channel carries it:
a fallback changes the row's channel, it never adds a second notice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

CustomerChannel = Literal["email", "sms"]
# The customer channels notify has an adapter for. A preferred channel of the intake
# contract without one (``wechat``, ``app``, ``chat``, ``phone``) falls back.
CUSTOMER_CHANNELS: Final[tuple[CustomerChannel, ...]] = ("email", "sms")


def parse_order(text: str) -> tuple[CustomerChannel, ...]:
    """``NOTIFY_CHANNEL_ORDER`` ("email,sms"): each known channel once, in order; raises
    ``ValueError`` naming an unknown one (a start-up error, not a silent drop)."""
    order: list[CustomerChannel] = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        if part not in CUSTOMER_CHANNELS:
            known = ", ".join(CUSTOMER_CHANNELS)
            raise ValueError(f"unknown channel {part!r} in the channel order (known: {known})")
        if part not in order:
            order.append(part)  # checked against CUSTOMER_CHANNELS
    if not order:
        raise ValueError("the channel order names no channel")
    return tuple(order)


def candidates(
    preferred: str | None, order: Sequence[CustomerChannel]
) -> tuple[CustomerChannel, ...]:
    """The preferred channel first when notify has an adapter for it, then the order."""
    first: Iterable[CustomerChannel] = ()
    if preferred is not None and preferred in CUSTOMER_CHANNELS:
        first = (preferred,)  # checked membership
    return tuple(dict.fromkeys((*first, *order)))


@dataclass(frozen=True)
class Choice:
    """The channel chosen, or none with, per channel considered, why it was passed over."""

    channel: CustomerChannel | None
    passed_over: Mapping[str, str]


def choose(
    *,
    preferred: str | None,
    order: Sequence[CustomerChannel],
    unusable: Mapping[str, str],
    failed: Collection[str] = (),
) -> Choice:
    """The first candidate that is neither ``unusable`` (channel → why: no address, no
    adapter, suppressed) nor in ``failed`` (refused this message for good)."""
    passed: dict[str, str] = {}
    for channel in candidates(preferred, order):
        if channel in failed:
            passed[channel] = "failed for good for this message"
        elif channel in unusable:
            passed[channel] = unusable[channel]
        else:
            return Choice(channel, passed)
    return Choice(None, passed)


def explain(choice: Choice, preferred: str | None) -> str:
    """Why no channel reaches the customer, for the delivery log (no addresses)."""
    reasons = "; ".join(f"{channel}: {why}" for channel, why in choice.passed_over.items())
    if preferred is not None and preferred not in CUSTOMER_CHANNELS:
        reasons = f"preferred channel {preferred} has no adapter; {reasons}"
    return f"no channel reaches the customer ({reasons})"
