"""When a failed webhook is tried again, and what an HTTP answer means (no I/O).

Retries are measured in time, not only in attempts (requirements §8's Decision: a delivery is
never abandoned to a short outage). The delay is exponential back-off with FULL jitter, as in
the AWS Architecture Blog's "Exponential Backoff And Jitter" (Marc Brooker, 2015)::

    sleep = random_between(0, min(cap, base * 2 ** attempt))

with ``attempt`` counted from 0 for the first retry: after the n-th failed attempt
(n = 1, 2, …) the ceiling is ``min(cap, base * 2 ** (n - 1))``. The retries stop at the end
of the window that started with the first attempt (default 24 hours): a draw that would land
past it is moved to the window's end (one last try), a failure at or after the end is final.

A ``Retry-After`` (RFC 9110 §10.2.3: delta-seconds or an HTTP-date) on a retryable answer is
honoured: the next attempt is never earlier than it asks; when it asks for a time past the
window, the delivery is final rather than sent early.

:func:`outcome` classifies an attempt (the Standard Webhooks spec counts only a 2xx as
received; the split of the rest is issue 15's, with RFC 9110's meanings):

- ``Delivered``: any 2xx;
- ``Retry``: 408, 429, any 5xx, a timeout, a connection failure (refused, reset, DNS, TLS);
- ``Failed``: any other status (1xx, 3xx: redirects are not followed blindly, other 4xx);
  410 Gone (RFC 9110 §15.5.11: gone for good) also asks notify to unsubscribe the endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final, Literal

RandomSource = Callable[[], float]  # uniform on [0, 1), e.g. random.Random(…).random

_MAX_EXPONENT: Final = 40  # 2**40 s is far past any cap: bounded so nothing overflows
# Longer delta-seconds are refused (treated as absent): 10 digits is ~300 years, far past
# any retry window, and int() of a huge digit string raises (Python's 4300-digit limit).
_MAX_DELTA_DIGITS: Final = 10
_MAX_HEADER_CHARS: Final = 100  # an IMF-fixdate is 29 characters


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Settings of the schedule: the back-off's base and cap, and the retry window."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base or self.window <= timedelta(0):
            raise ValueError("the retry policy needs 0 < base <= cap and a positive window")


def delay_cap(*, attempt: int, policy: RetryPolicy) -> timedelta:
    """The ceiling of the jittered delay after the ``attempt``-th failed attempt (1-based)."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    exponent = min(attempt - 1, _MAX_EXPONENT)
    seconds = min(policy.cap.total_seconds(), policy.base.total_seconds() * 2**exponent)
    return timedelta(seconds=seconds)


def next_attempt_at(
    *,
    first_attempt_at: datetime,
    failed_at: datetime,
    attempt: int,
    random: RandomSource,
    policy: RetryPolicy,
    retry_after: timedelta | None = None,
) -> datetime | None:
    """When to try again after the ``attempt``-th attempt failed at ``failed_at``; None: final.

    Guarantees: the answer is never after ``first_attempt_at + policy.window``, never before
    ``failed_at``, and never before ``failed_at + retry_after``.
    """
    deadline = first_attempt_at + policy.window
    if failed_at >= deadline:
        return None
    draw = random()
    if not 0.0 <= draw < 1.0:
        raise ValueError("the random source must return a number in [0, 1)")
    delay = delay_cap(attempt=attempt, policy=policy) * draw
    if retry_after is not None:
        if failed_at + retry_after > deadline:
            return None  # the receiver asked for a time past the window: not earlier
        delay = max(delay, retry_after)
    return min(failed_at + delay, deadline)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header as a non-negative delay from ``now``; None when absent or
    unreadable (an unreadable value is ignored, not obeyed). Never raises, whatever the
    receiver sent: its answer must not keep the attempt from being recorded."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > _MAX_HEADER_CHARS:
        return None
    if text.isascii() and text.isdigit():
        if len(text) > _MAX_DELTA_DIGITS:
            return None
        return timedelta(seconds=min(int(text), 10**9))  # bounded: timedelta overflows
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:  # RFC 9110's IMF-fixdate is GMT; obsolete forms may lack one
            return None
        return max(when - now, timedelta(0))
    except (TypeError, ValueError, IndexError, ArithmeticError):  # Overflow: an ArithmeticError
        return None


# -- outcomes


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver answered: the status and its ``Retry-After`` header, if any."""

    status: int
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """No answer: the adapter maps its HTTP library's exception to one of these kinds."""

    kind: Literal["timeout", "connection"]


@dataclass(frozen=True, slots=True)
class Delivered:
    status: int


@dataclass(frozen=True, slots=True)
class Retry:
    reason: str  # "status 503", "timeout", "connection"
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str
    unsubscribe: bool = False  # 410 Gone: the receiver asks to stop sending


Outcome = Delivered | Retry | Failed


def outcome(result: Answer | TransportFailure, *, now: datetime) -> Outcome:
    """Delivered, worth retrying, or failed for good (see the module's docstring)."""
    if isinstance(result, TransportFailure):
        return Retry(result.kind)
    status = result.status
    if not 100 <= status <= 599:
        raise ValueError(f"not an HTTP status: {status}")
    if 200 <= status <= 299:
        return Delivered(status)
    if status in (408, 429) or status >= 500:
        return Retry(f"status {status}", parse_retry_after(result.retry_after, now=now))
    if status == 410:
        return Failed("status 410", unsubscribe=True)
    return Failed(f"status {status}")
