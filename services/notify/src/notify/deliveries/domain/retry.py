"""When a failed delivery is tried again, and when notify gives up (requirements §8's
Decision: a delivery is never abandoned to a short outage).

Retries are measured in time: a retryable send failure is tried again with exponential
back-off and full jitter (:mod:`notify.webhooks.domain.schedule`, the same rule as the
webhooks') until ``NOTIFY_RETRY_WINDOW_S`` after the first attempt; a failure after that
is final. A delivery waiting for intake or feedback (unreachable) is not failing: it waits,
at most ``NOTIFY_DEPENDENCY_RETRY_MAX_S`` between looks, for as long as they are away.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from notify.webhooks.domain.schedule import RandomSource, RetryPolicy, delay_cap

Decision = Literal["retry", "final"]


def after_failure(
    *, retryable: bool, first_attempt_at: datetime | None, now: datetime, window_s: float
) -> Decision:
    """A retryable failure is retried while the window that began with the first attempt
    is open; anything else is final."""
    if not retryable:
        return "final"
    started = first_attempt_at or now
    return "retry" if now - started < timedelta(seconds=window_s) else "final"


def next_attempt(
    *,
    attempts: int,
    now: datetime,
    base_s: float,
    cap_s: float,
    random: RandomSource,
    not_after: datetime | None = None,
) -> datetime:
    """Full jitter: uniform in [0, min(cap, base * 2**(attempts-1))), never past
    ``not_after`` (the window's end: one last try there)."""
    policy = RetryPolicy(base=timedelta(seconds=base_s), cap=timedelta(seconds=max(cap_s, base_s)))
    ceiling = delay_cap(attempt=max(attempts, 1), policy=policy).total_seconds()
    delay = ceiling * random()
    at = now + timedelta(seconds=delay)
    return min(at, not_after) if not_after is not None and not_after > now else at
