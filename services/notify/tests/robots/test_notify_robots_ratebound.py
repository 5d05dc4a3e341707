"""The pure rate bound: never more than ``limit`` posts admitted in any window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.robots.domain.ratebound import VENDOR_BOUNDS, RateBound, admits, longest_window


def test_admits_up_to_the_limit_within_the_window() -> None:
    bound = (RateBound(2, 60.0),)
    assert admits([], now=0.0, bounds=bound)
    assert admits([0.0], now=1.0, bounds=bound)
    assert not admits([0.0, 1.0], now=59.9, bounds=bound)
    assert admits([0.0, 1.0], now=60.0, bounds=bound)  # the first one left the window


def test_every_bound_must_hold() -> None:
    feishu = VENDOR_BOUNDS["feishu"]
    assert not admits([10.0 + i * 0.1 for i in range(5)], now=10.6, bounds=feishu)  # 5 a second
    assert admits([10.0 + i * 0.1 for i in range(5)], now=11.0, bounds=feishu)
    assert not admits([i * 0.5 for i in range(100)], now=50.0, bounds=feishu)  # 100 a minute
    assert admits([i * 0.5 for i in range(100)], now=60.0, bounds=feishu)
    assert longest_window(feishu) == 60.0
    assert longest_window(()) == 0.0


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (1, 0.0), (5, -1.0)])
def test_a_bound_needs_a_limit_and_a_window(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="rate bound"):
        RateBound(limit, window)


@given(
    st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=5),
    st.floats(min_value=0.5, max_value=10, allow_nan=False),
)
def test_admitted_posts_never_exceed_the_limit_in_any_window(
    gaps: list[float], limit: int, window: float
) -> None:
    bound = (RateBound(limit, window),)
    now, admitted = 0.0, []
    for gap in gaps:
        now += gap
        if admits(admitted, now=now, bounds=bound):
            admitted.append(now)
    for start in admitted:
        assert sum(1 for t in admitted if start <= t < start + window) <= limit
