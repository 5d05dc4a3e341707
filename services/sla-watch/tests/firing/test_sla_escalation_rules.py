"""Pure rules: the escalation ladder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sla_watch.firing.domain.escalation import escalate_on_breach, level_for_breach

METRICS = ("first_response", "next_response", "resolution")
PRIORITIES = ("P1", "P2", "P3", "P4")


# -- escalation ladder --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "priority", "count", "expected"),
    [
        ("first_response", "P3", 1, (1, "first_response_breach")),
        ("next_response", "P2", 1, (1, "next_response_breach")),
        ("resolution", "P4", 1, (2, "resolution_breach")),
        ("first_response", "P1", 1, (3, "p1_breach")),
        ("resolution", "P1", 2, (3, "p1_breach")),
        ("resolution", "P3", 2, (3, "repeated_breach")),
        ("next_response", "P4", 3, (3, "repeated_breach")),
    ],
)
def test_the_ladder(metric: str, priority: str, count: int, expected: tuple[int, str]) -> None:
    assert level_for_breach(metric=metric, priority=priority, breach_count=count) == expected  # type: ignore[arg-type]


def test_an_escalation_says_why_and_from_where() -> None:
    rise = escalate_on_breach(1, metric="resolution", priority="P3", breach_count=1)
    assert rise is not None
    assert (rise.level, rise.previous_level, rise.trigger) == (2, 1, "resolution_breach")
    assert "resolution deadline passed" in rise.reason
    assert "manager" in rise.reason
    repeated = escalate_on_breach(2, metric="first_response", priority="P3", breach_count=2)
    assert repeated is not None
    assert "breach number 2" in repeated.reason


def test_a_breach_below_the_current_level_changes_nothing() -> None:
    assert escalate_on_breach(2, metric="first_response", priority="P3", breach_count=1) is None
    assert escalate_on_breach(1, metric="next_response", priority="P2", breach_count=1) is None
    assert escalate_on_breach(3, metric="resolution", priority="P1", breach_count=5) is None


@given(
    breaches=st.lists(st.tuples(st.sampled_from(METRICS), st.sampled_from(PRIORITIES)), max_size=12)
)
def test_the_level_only_rises_and_each_rise_is_reported_once(
    breaches: list[tuple[str, str]],
) -> None:
    level = 0
    for count, (metric, priority) in enumerate(breaches, start=1):
        rise = escalate_on_breach(level, metric=metric, priority=priority, breach_count=count)  # type: ignore[arg-type]
        wanted, _ = level_for_breach(metric=metric, priority=priority, breach_count=count)  # type: ignore[arg-type]
        if rise is None:
            assert wanted <= level
        else:
            assert rise.previous_level == level < rise.level == wanted
            level = rise.level
        # A second breach, or any P1 breach, always leaves the complaint at the top.
        if count >= 2 or priority == "P1":
            assert level == 3
    if breaches:
        assert level >= 1
