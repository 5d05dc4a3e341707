"""Pure rules of an escalation by hand: which cases and levels a request may ask for, and
the reason as it is kept."""

from __future__ import annotations

import pytest
from complaint_runtime.errors import InvalidInput
from hypothesis import given
from hypothesis import strategies as st
from routing.cases.domain.errors import IllegalTransitionError
from routing.cases.domain.escalation import (
    ESCALATABLE,
    MAX_REASON,
    EscalationNotHigherError,
    check_request,
    request_reason,
)
from routing.cases.domain.lifecycle import STATES

LEVELS = st.sampled_from([0, 1, 2, 3])


@pytest.mark.parametrize("state", sorted(ESCALATABLE))
def test_every_open_triaged_case_may_be_escalated(state: str) -> None:
    assert check_request(state=state, current_level=0, level=1) == 0


@pytest.mark.parametrize("state", ["closed", "received"])
def test_closed_and_untriaged_cases_are_not(state: str) -> None:
    with pytest.raises(IllegalTransitionError) as refused:
        check_request(state=state, current_level=0, level=2)
    assert refused.value.extensions == {"state": state, "command": "Escalate"}


def test_a_level_at_or_below_the_current_one_is_refused_with_both_levels() -> None:
    with pytest.raises(EscalationNotHigherError) as refused:
        check_request(state="in_progress", current_level=2, level=2)
    assert refused.value.extensions == {"level": 2, "current_level": 2}
    assert "level 2 (manager)" in str(refused.value)


@pytest.mark.parametrize("level", [0, 4, -1])
def test_a_level_outside_the_ladder_is_invalid_input(level: int) -> None:
    with pytest.raises(InvalidInput):
        check_request(state="assigned", current_level=0, level=level)


@given(state=st.sampled_from(STATES), current=LEVELS, level=st.sampled_from([1, 2, 3]))
def test_a_request_passes_exactly_when_it_would_raise_an_open_triaged_case(
    state: str, current: int, level: int
) -> None:
    try:
        assert check_request(state=state, current_level=current, level=level) == current
    except (IllegalTransitionError, EscalationNotHigherError):
        assert state not in ESCALATABLE or level <= current
    else:
        assert state in ESCALATABLE
        assert level > current


def test_the_reason_is_stripped_masked_and_bounded() -> None:
    assert request_reason("  call 13812345678 ") == "call 138****5678"
    assert len(request_reason("x" * MAX_REASON)) == MAX_REASON
    for bad in ("", "   ", "x" * (MAX_REASON + 1), "x" * (MAX_REASON - 8) + " a@b.cn"):
        with pytest.raises(InvalidInput):
            request_reason(bad)
