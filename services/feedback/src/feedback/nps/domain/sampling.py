"""Who is asked in a period: a reproducible sample of the customers with a complaint closed
in it (``NPS_SAMPLE_PERCENT``, 30 by default), one request per customer, never a customer
who opted out.

Reproducible means anyone holding the seed (``NPS_SAMPLE_SEED``) can say, years later,
why a customer was or was not asked: a customer is chosen when the keyed hash
HMAC-SHA256(seed, period ‖ customer_ref), read as a number in [0, 1), is below the
percentage. No random generator, no state, no order: the same inputs give the same sample
on every replica and on every re-run of a round that crashed half-way. The hash spreads
customers evenly, so about p % are chosen; a different period re-draws everyone, so the
same customers are not asked month after month; and a customer chosen at p % is chosen at
every larger percentage (raising the share only adds people).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

_SEPARATOR: Final = "\x1f"  # no period key or customer ref contains it
_SCALE: Final = float(2**64)
# request_id = uuid5(period, customer): the same request whoever creates it, and again
# after a crash (the insert then finds it).
_REQUEST_NAMESPACE: Final = uuid.UUID("8d3f6a2e-4c1b-5e7d-9a0f-2b6c8e1d4f37")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A complaint of the customer closed in the period, with how to address them."""

    customer_ref: str
    complaint_id: str
    closed_at: datetime
    language: str
    channel: str


def draw(*, seed: str, period: str, customer_ref: str) -> float:
    """The customer's number in [0, 1) for the period (keyed hash, see the module)."""
    message = f"{period}{_SEPARATOR}{customer_ref}".encode()
    digest = hmac.new(seed.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def chosen(
    *, seed: str, period: str, customer_ref: str, percent: float, opted_out: bool = False
) -> bool:
    """Whether the customer is asked in the period; never when they opted out."""
    if opted_out or percent <= 0:
        return False
    return draw(seed=seed, period=period, customer_ref=customer_ref) < percent / 100


def latest_per_customer(candidates: Iterable[Candidate]) -> dict[str, Candidate]:
    """Each customer's latest closure in the period (ties: the larger complaint id), the
    complaint their request is keyed by: one request per customer, whatever the order."""
    latest: dict[str, Candidate] = {}
    for candidate in candidates:
        kept = latest.get(candidate.customer_ref)
        if kept is None or (candidate.closed_at, candidate.complaint_id) > (
            kept.closed_at,
            kept.complaint_id,
        ):
            latest[candidate.customer_ref] = candidate
    return latest


def sample(
    *,
    seed: str,
    period: str,
    candidates: Iterable[Candidate],
    percent: float,
    opted_out: Collection[str] = (),
) -> list[Candidate]:
    """The period's requests among ``candidates``: one per chosen customer, in customer
    order (the order rounds walk them in)."""
    latest = latest_per_customer(candidates)
    return [
        latest[ref]
        for ref in sorted(latest)
        if chosen(
            seed=seed,
            period=period,
            customer_ref=ref,
            percent=percent,
            opted_out=ref in opted_out,
        )
    ]


def request_id_for(*, period: str, customer_ref: str) -> str:
    return str(uuid.uuid5(_REQUEST_NAMESPACE, f"{period}{_SEPARATOR}{customer_ref}"))
