"""The one-time code of a lost-link recovery and the rules of its short life.

- 6 digits, drawn with :mod:`secrets`; stored as a keyed hash (HMAC-SHA256 under intake's
  CUSTOMER_REF_KEY, bound to the request id): a million codes are quickly tried against a
  plain hash, not against a keyed one without the key. Notify reads the code once from an
  encrypted copy that is dropped on that read.
- valid :data:`CODE_TTL` (10 minutes) after it was made, and for :data:`MAX_ATTEMPTS` (5)
  wrong entries: five guesses out of a million, and the per-reference rate limit bounds
  how many codes can be asked for.
- used once: accepted, it is consumed with the new link in one transaction.

A request whose reference and contact match no complaint gets a *decoy*: the same row
without a code, which no entry matches, expiring and counting attempts like a real one.
The page then behaves the same whether or not a complaint matched, and reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

CODE_DIGITS: Final = 6
CODE_TTL: Final = timedelta(minutes=10)
MAX_ATTEMPTS: Final = 5
_PURPOSE: Final = "tracking-code/v1"

Verdict = Literal["accepted", "wrong", "expired", "exhausted"]


def new_code() -> str:
    """Six random digits, leading zeros kept (``004217``)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(key: bytes, *, request_id: str, code: str) -> str:
    """The stored form of a code: keyed, and bound to its request (the same digits of two
    requests hash differently)."""
    message = f"{_PURPOSE}:{request_id}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(key: bytes, *, request_id: str, stored_hash: str | None, code: str) -> bool:
    """Constant time; a decoy (no stored hash) never matches."""
    if stored_hash is None:
        return False
    entered = code_hash(key, request_id=request_id, code=code)
    return hmac.compare_digest(entered, stored_hash)


def normalise_code(raw: str | None) -> str | None:
    """The digits the customer typed, as a code: full-width digits (a Chinese keyboard)
    become ASCII, spaces and dashes are ignored (``123 456``); anything else is no code."""
    text = unicodedata.normalize("NFKC", raw or "")
    digits = "".join(c for c in text if c not in " -\t")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


@dataclass(frozen=True)
class CodeState:
    """What the check reads of a stored code."""

    expires_at: datetime
    attempts: int  # wrong entries so far
    consumed: bool


@dataclass(frozen=True)
class Check:
    """The verdict on one entry and the attempts left after it."""

    verdict: Verdict
    attempts_left: int


def expires_at(now: datetime) -> datetime:
    return now + CODE_TTL


def check_code(state: CodeState, *, matches: bool, now: datetime) -> Check:
    """One entry against the code's state: a used or expired code opens nothing (the end
    belongs to it: at ``expires_at`` it has expired), a code with all attempts spent
    neither (even with the right digits: the next guess must not be free), else the right
    digits are accepted and wrong ones spend an attempt, the last one exhausting it."""
    left = max(0, MAX_ATTEMPTS - state.attempts)
    if state.consumed or now >= state.expires_at:
        return Check("expired", left)
    if left == 0:
        return Check("exhausted", 0)
    if matches:
        return Check("accepted", left)
    left -= 1
    return Check("wrong" if left else "exhausted", left)
