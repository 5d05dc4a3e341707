"""Retry schedule (full jitter within a time window) and the classification of answers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.webhooks.domain.schedule import (
    Answer,
    Delivered,
    Failed,
    Retry,
    RetryPolicy,
    TransportFailure,
    delay_cap,
    next_attempt_at,
    outcome,
    parse_retry_after,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(hours=1), window=timedelta(hours=24))

draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
attempts = st.integers(min_value=1, max_value=200)
policies = st.builds(
    lambda base, factor, window: RetryPolicy(
        base=timedelta(seconds=base),
        cap=timedelta(seconds=base * factor),
        window=timedelta(seconds=window),
    ),
    st.integers(min_value=1, max_value=600),
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=1, max_value=7 * 86400),
)


def test_the_default_window_is_24_hours() -> None:
    assert RetryPolicy().window == timedelta(hours=24)


def test_the_cap_doubles_from_the_base_up_to_the_cap() -> None:
    caps = [delay_cap(attempt=n, policy=POLICY).total_seconds() for n in range(1, 13)]
    assert caps == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]


def test_the_delay_is_the_draw_times_the_cap_full_jitter() -> None:
    at = next_attempt_at(
        first_attempt_at=T0, failed_at=T0, attempt=3, random=lambda: 0.5, policy=POLICY
    )
    assert at == T0 + timedelta(seconds=10)  # 0.5 * min(3600, 5 * 2**2)
    zero = next_attempt_at(
        first_attempt_at=T0, failed_at=T0, attempt=3, random=lambda: 0.0, policy=POLICY
    )
    assert zero == T0


@given(policies, st.integers(min_value=1, max_value=10_000))
def test_the_delay_cap_never_decreases(policy: RetryPolicy, attempt: int) -> None:
    now, then = (
        delay_cap(attempt=attempt, policy=policy),
        delay_cap(attempt=attempt + 1, policy=policy),
    )
    assert now <= then <= policy.cap


@given(policies, attempts, draws, st.integers(min_value=0, max_value=8 * 86400))
def test_never_past_the_window_never_before_the_failure(
    policy: RetryPolicy, attempt: int, draw: float, elapsed_s: int
) -> None:
    failed_at = T0 + timedelta(seconds=elapsed_s)
    at = next_attempt_at(
        first_attempt_at=T0,
        failed_at=failed_at,
        attempt=attempt,
        random=lambda: draw,
        policy=policy,
    )
    if failed_at >= T0 + policy.window:
        assert at is None
    else:
        assert at is not None
        assert failed_at <= at <= T0 + policy.window
        assert at - failed_at <= delay_cap(attempt=attempt, policy=policy)


@given(
    policies,
    attempts,
    draws,
    st.integers(min_value=0, max_value=86400),
    st.integers(min_value=0, max_value=8 * 86400),
)
def test_retry_after_is_respected(
    policy: RetryPolicy, attempt: int, draw: float, elapsed_s: int, retry_after_s: int
) -> None:
    failed_at = T0 + timedelta(seconds=elapsed_s)
    retry_after = timedelta(seconds=retry_after_s)
    at = next_attempt_at(
        first_attempt_at=T0,
        failed_at=failed_at,
        attempt=attempt,
        random=lambda: draw,
        policy=policy,
        retry_after=retry_after,
    )
    if at is not None:
        assert at >= failed_at + retry_after
        assert at <= T0 + policy.window
    else:
        assert failed_at + retry_after > T0 + policy.window or failed_at >= T0 + policy.window


def test_a_retry_after_past_the_window_makes_the_delivery_final() -> None:
    failed_at = T0 + timedelta(hours=23, minutes=50)
    assert (
        next_attempt_at(
            first_attempt_at=T0,
            failed_at=failed_at,
            attempt=9,
            random=lambda: 0.1,
            policy=POLICY,
            retry_after=timedelta(minutes=11),
        )
        is None
    )


def test_a_draw_past_the_window_is_one_last_try_at_its_end() -> None:
    failed_at = T0 + timedelta(hours=23, minutes=59)
    at = next_attempt_at(
        first_attempt_at=T0, failed_at=failed_at, attempt=20, random=lambda: 0.99, policy=POLICY
    )
    assert at == T0 + POLICY.window


def test_a_whole_run_ends_within_the_window() -> None:
    rng = random.Random(15)
    failed_at, attempt, tries = T0, 1, []
    while (
        at := next_attempt_at(
            first_attempt_at=T0,
            failed_at=failed_at,
            attempt=attempt,
            random=rng.random,
            policy=POLICY,
        )
    ) is not None:
        tries.append(at)
        failed_at, attempt = at + timedelta(seconds=1), attempt + 1  # each attempt takes 1 s
    assert tries == sorted(tries)
    assert tries[-1] == T0 + POLICY.window
    assert len(tries) > 20  # measured in time: far more than a fixed five attempts


def test_a_random_source_outside_0_1_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        next_attempt_at(
            first_attempt_at=T0, failed_at=T0, attempt=1, random=lambda: 1.0, policy=POLICY
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base": timedelta(0)},
        {"base": timedelta(seconds=10), "cap": timedelta(seconds=5)},
        {"window": timedelta(0)},
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, timedelta]) -> None:
    with pytest.raises(ValueError, match="retry policy"):
        RetryPolicy(**kwargs)


# -- Retry-After


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Sun, 01 Mar 2026 12:05:00 GMT", timedelta(minutes=5)),
        ("Sun, 01 Mar 2026 11:00:00 GMT", timedelta(0)),  # in the past: now
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        ("9" * 10, timedelta(seconds=10**9)),  # bounded: timedelta would overflow
        ("9" * 11, None),  # longer than any retry window can use: refused
        ("9" * 5000, None),  # int() itself refuses more than 4300 digits
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    value: str | None, expected: timedelta | None
) -> None:
    assert parse_retry_after(value, now=T0) == expected


@given(st.text(max_size=40))
def test_retry_after_never_raises_and_is_never_negative(value: str) -> None:
    delay = parse_retry_after(value, now=T0)
    assert delay is None or delay >= timedelta(0)


# -- outcomes


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert outcome(Answer(status), now=T0) == Delivered(status)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_408_429_and_5xx_are_retried(status: int) -> None:
    assert outcome(Answer(status), now=T0) == Retry(f"status {status}")


def test_429_carries_its_retry_after() -> None:
    assert outcome(Answer(429, "30"), now=T0) == Retry("status 429", timedelta(seconds=30))
    assert outcome(Answer(503, "Sun, 01 Mar 2026 12:01:00 GMT"), now=T0) == Retry(
        "status 503", timedelta(minutes=1)
    )


@pytest.mark.parametrize("kind", ["timeout", "connection"])
def test_timeouts_and_connection_failures_are_retried(kind: str) -> None:
    assert outcome(TransportFailure(kind), now=T0) == Retry(kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [100, 301, 302, 307, 400, 401, 403, 404, 413, 422, 451])
def test_other_answers_fail_for_good(status: int) -> None:
    assert outcome(Answer(status, "30"), now=T0) == Failed(f"status {status}")


def test_410_fails_for_good_and_asks_to_unsubscribe() -> None:
    assert outcome(Answer(410), now=T0) == Failed("status 410", unsubscribe=True)
    assert outcome(Answer(404), now=T0) == Failed("status 404", unsubscribe=False)


@given(st.integers(min_value=100, max_value=599))
def test_every_status_has_exactly_one_meaning(status: int) -> None:
    result = outcome(Answer(status), now=T0)
    assert isinstance(result, Delivered) == (200 <= status <= 299)
    assert isinstance(result, Retry) == (status in (408, 429) or status >= 500)


@pytest.mark.parametrize("status", [0, 99, 600, -1])
def test_a_number_that_is_no_http_status_is_refused(status: int) -> None:
    with pytest.raises(ValueError, match="HTTP status"):
        outcome(Answer(status), now=T0)
