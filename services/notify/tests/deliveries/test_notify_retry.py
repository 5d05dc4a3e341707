"""Retries measured in time (requirements §8's Decision): the window, full jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from notify.deliveries.domain.retry import after_failure, next_attempt

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@given(attempts=st.integers(1, 200), draw=st.floats(0, 0.999999))
def test_a_retry_waits_at_most_the_doubling_ceiling_and_never_past_the_window(
    attempts: int, draw: float
) -> None:
    window_end = NOW + timedelta(hours=1)
    at = next_attempt(
        attempts=attempts,
        now=NOW,
        base_s=60,
        cap_s=1800,
        random=lambda: draw,
        not_after=window_end,
    )
    ceiling = min(1800, 60 * 2 ** (attempts - 1))
    assert NOW <= at <= NOW + timedelta(seconds=ceiling)
    assert at <= window_end


def test_the_jitter_spreads_retries_over_the_whole_ceiling() -> None:
    low = next_attempt(attempts=3, now=NOW, base_s=60, cap_s=1800, random=lambda: 0.0)
    high = next_attempt(attempts=3, now=NOW, base_s=60, cap_s=1800, random=lambda: 0.99)
    assert low == NOW
    assert high == NOW + timedelta(seconds=0.99 * 240)


def test_a_retryable_failure_is_retried_while_the_window_is_open() -> None:
    first = NOW - timedelta(hours=23)
    assert after_failure(retryable=True, first_attempt_at=first, now=NOW, window_s=86400) == (
        "retry"
    )
    late = NOW - timedelta(hours=24)
    assert after_failure(retryable=True, first_attempt_at=late, now=NOW, window_s=86400) == (
        "final"
    )
    assert after_failure(retryable=False, first_attempt_at=NOW, now=NOW, window_s=86400) == (
        "final"
    )
    # No send yet (the first failure is the first attempt): the window starts now.
    assert after_failure(retryable=True, first_attempt_at=None, now=NOW, window_s=1) == "retry"
