"""Overload: intake sheds new complaints with a 503 while those it holds are late, and
takes them again once they are not (the rule, the counter, and the route)."""

from __future__ import annotations

import pytest
from complaint_runtime.errors import Unavailable
from hypothesis import given
from hypothesis import strategies as st
from intake.complaints.admission import Admission
from intake.complaints.domain.admission import AdmissionLimits, should_shed

LIMITS = AdmissionLimits(max_in_flight=10, shed_after_s=1.0)


@given(
    in_flight=st.integers(0, 20),
    age=st.floats(0, 5, allow_nan=False),
    max_in_flight=st.integers(1, 15),
    shed_after=st.floats(0, 3, allow_nan=False),
)
def test_the_rule(in_flight: int, age: float, max_in_flight: int, shed_after: float) -> None:
    limits = AdmissionLimits(max_in_flight=max_in_flight, shed_after_s=shed_after)
    shed = should_shed(limits, in_flight=in_flight, oldest_age_s=age)
    if in_flight == 0:
        assert not shed  # an idle intake takes anything
    if in_flight >= max_in_flight:
        assert shed
    if in_flight < max_in_flight and (shed_after == 0 or age <= shed_after):
        assert not shed
    if 0 < in_flight < max_in_flight and shed_after > 0 and age > shed_after:
        assert shed


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        AdmissionLimits(max_in_flight=0, shed_after_s=1)
    with pytest.raises(ValueError, match="shed_after_s"):
        AdmissionLimits(max_in_flight=1, shed_after_s=-1)


def test_late_submissions_in_flight_shed_new_ones_until_they_finish() -> None:
    now = [100.0]
    admission = Admission(LIMITS, clock=lambda: now[0])
    with admission.admit():
        now[0] += 0.5
        with admission.admit():  # the first has waited 0.5 s: fine
            assert admission.in_flight == 2
        now[0] += 0.6  # the first has now waited 1.1 s
        with pytest.raises(Unavailable, match="overloaded"), admission.admit():
            pass
        assert admission.in_flight == 1  # the refused one holds no place
    assert admission.in_flight == 0
    with admission.admit():  # the late one finished: accepted again
        pass


def test_the_count_limit_bounds_what_is_held() -> None:
    admission = Admission(AdmissionLimits(max_in_flight=2, shed_after_s=0), clock=lambda: 0.0)
    with admission.admit(), admission.admit(), pytest.raises(Unavailable), admission.admit():
        pass
    with admission.admit():
        pass
