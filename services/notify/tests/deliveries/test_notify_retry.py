"""When a failed delivery is tried again: back-off and the last attempt."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from notify.deliveries.domain.retry import after_failure, backoff_s


@given(
    attempts=st.integers(min_value=0, max_value=10_000),
    base=st.floats(min_value=0.001, max_value=3600),
    cap=st.floats(min_value=0.001, max_value=86_400),
)
def test_backoff_is_positive_bounded_and_monotonic(attempts: int, base: float, cap: float) -> None:
    delay = backoff_s(attempts=attempts, base_s=base, cap_s=cap)
    assert 0 < delay <= max(cap, 0)
    assert delay <= backoff_s(attempts=attempts + 1, base_s=base, cap_s=cap)


def test_backoff_doubles_from_the_base() -> None:
    assert [backoff_s(attempts=n, base_s=60, cap_s=1800) for n in (1, 2, 3, 4, 5, 6)] == [
        60,
        120,
        240,
        480,
        960,
        1800,
    ]


@given(
    attempts=st.integers(min_value=1, max_value=50),
    max_attempts=st.integers(min_value=1, max_value=50),
    retryable=st.booleans(),
)
def test_retry_only_while_attempts_remain(
    attempts: int, max_attempts: int, retryable: bool
) -> None:
    decision = after_failure(attempts=attempts, max_attempts=max_attempts, retryable=retryable)
    assert (decision == "retry") == (retryable and attempts < max_attempts)
