"""Duplicates and repeats of §4, as pure functions over a customer's earlier complaints.

Same customer: the two complaints share a customer reference or any one identity key
(``id:…``, ``phone:…``, ``email:…``, keyed hashes computed by intake). Then:

- **duplicate** when, within the duplicate window (default 72 h, inclusive) and while the
  earlier complaint is still open, the order references are equal (normalised) or the
  texts are near-identical (similarity ≥ the threshold, default 0.90). The original is the
  oldest such complaint that is not itself a duplicate: every copy links to the case that
  stands, never to another copy;
- **repeat count**: the number of earlier complaints of the customer in the same category
  within the repeat window (default 30 days), open or closed, duplicates excluded (a copy
  is the same complaint, not another one).

Similarity is the larger of RapidFuzz's ``ratio`` and ``token_sort_ratio`` on normalised
text. Not ``token_set_ratio``: it scores 100 whenever one text's words are a subset of the
other's ("refund" against any text mentioning a refund), which is not "near-identical".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from complaint_contracts.events.routing import DuplicateMatch
from rapidfuzz import fuzz

CUSTOMER_REF_KIND = "ref"
FINGERPRINT_CHARS = 2000  # bounds storage and the comparison's cost; a copy differs early
_KIND_MATCH: dict[str, DuplicateMatch] = {
    CUSTOMER_REF_KIND: "same_customer_ref",
    "id": "same_customer_id",
    "phone": "same_phone",
    "email": "same_email",
}
_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
_ORDER_NOISE = re.compile(r"[^0-9A-Za-z]")


@dataclass(frozen=True, slots=True)
class DuplicatePolicy:
    window: timedelta = timedelta(hours=72)
    text_similarity: float = 0.90  # 0..1
    repeat_window: timedelta = timedelta(days=30)

    @property
    def lookback(self) -> timedelta:
        """How far back the index must be read to decide both rules."""
        return max(self.window, self.repeat_window)


@dataclass(frozen=True, slots=True)
class Incoming:
    complaint_id: str
    keys: frozenset[str]  # identity keys plus ``ref:<customer_ref>``
    order_ref: str | None  # normalised
    fingerprint: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Earlier:
    complaint_id: str
    keys: frozenset[str]
    order_ref: str | None
    fingerprint: str
    received_at: datetime
    category: str
    is_open: bool
    duplicate_of: str | None = None


@dataclass(frozen=True, slots=True)
class DuplicateFinding:
    original_id: str
    matched_on: tuple[DuplicateMatch, ...]
    similarity: float | None = None  # when text decided (or was compared)
    shared_keys: tuple[str, ...] = field(default=())


def customer_keys(*, customer_ref: str, identity_keys: Iterable[str]) -> frozenset[str]:
    return frozenset({f"{CUSTOMER_REF_KIND}:{customer_ref}", *identity_keys})


def normalize_order_ref(order_ref: str | None) -> str | None:
    """``ord-2026 1028`` and ``ORD20261028`` are the same order; blank is none."""
    if order_ref is None:
        return None
    folded = _ORDER_NOISE.sub("", unicodedata.normalize("NFKC", order_ref)).upper()
    return folded or None


def fingerprint(text: str) -> str:
    """The text as compared: NFKC, lower case, punctuation dropped, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()
    return folded[:FINGERPRINT_CHARS]


def similarity(a: str, b: str) -> float:
    """0..1; both arguments are fingerprints."""
    if not a or not b:
        return 0.0
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100.0


def same_customer(incoming_keys: frozenset[str], earlier_keys: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(incoming_keys & earlier_keys))


def _within(incoming: Incoming, earlier: Earlier, window: timedelta) -> bool:
    # Either way round: complaints on different partitions may be consumed out of order,
    # and the one routing saw first is the case that stands.
    return abs(incoming.received_at - earlier.received_at) <= window


def match(incoming: Incoming, earlier: Earlier, policy: DuplicatePolicy) -> DuplicateFinding | None:
    """Whether ``incoming`` duplicates ``earlier`` (ignoring whether earlier is a copy)."""
    if earlier.complaint_id == incoming.complaint_id or not earlier.is_open:
        return None
    if not _within(incoming, earlier, policy.window):
        return None
    shared = same_customer(incoming.keys, earlier.keys)
    if not shared:
        return None
    matched: list[DuplicateMatch] = list(
        dict.fromkeys(_KIND_MATCH[k.split(":", 1)[0]] for k in shared)
    )
    same_order = incoming.order_ref is not None and incoming.order_ref == earlier.order_ref
    score = similarity(incoming.fingerprint, earlier.fingerprint)
    similar = score >= policy.text_similarity
    if not (same_order or similar):
        return None
    if same_order:
        matched.append("same_order_ref")
    if similar:
        matched.append("similar_text")
    return DuplicateFinding(earlier.complaint_id, tuple(matched), round(score, 4), shared)


def find_original(
    incoming: Incoming, earlier: Iterable[Earlier], policy: DuplicatePolicy
) -> DuplicateFinding | None:
    """The open complaint ``incoming`` duplicates: the oldest match that is no copy."""
    candidates = sorted(
        (e for e in earlier if e.duplicate_of is None),
        key=lambda e: (e.received_at, e.complaint_id),
    )
    for candidate in candidates:
        finding = match(incoming, candidate, policy)
        if finding is not None:
            return finding
    return None


def count_repeats(
    incoming: Incoming, earlier: Iterable[Earlier], *, category: str, policy: DuplicatePolicy
) -> int:
    """Earlier complaints of the same customer and category within the repeat window."""
    return sum(
        1
        for e in earlier
        if e.complaint_id != incoming.complaint_id
        and e.duplicate_of is None
        and e.category == category
        and _within(incoming, e, policy.repeat_window)
        and same_customer(incoming.keys, e.keys)
    )
