"""The pure rules of follow-up calls and per-kind outcomes: the window, who gets the call,
when a task is workable and overdue, which outcome (and CSAT) ends which kind, and when a
customer nobody reaches wants a task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from complaint_contracts.events import (
    ComplaintConfirmationRequested,
    ComplaintResolved,
    NotificationFailed,
)
from complaint_contracts.examples import example_for
from complaint_runtime.errors import InvalidInput
from hypothesis import given
from hypothesis import strategies as st
from routing.tasks.domain.follow_up import (
    DEFAULT_WINDOW,
    FollowUpWindow,
    available,
    follow_up_assignee,
    needs_follow_up,
    reports_unreachable_customer,
    wants_unreachable_task,
)
from routing.tasks.domain.outcomes import (
    ALL_OUTCOMES,
    CSAT_OUTCOMES,
    OUTCOMES,
    check_completion,
    outcomes_of,
)
from routing.tasks.domain.rules import KINDS, SINGLE_OPEN_KINDS, overdue

T = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_the_window_is_15_to_30_days_after_the_resolution() -> None:
    assert DEFAULT_WINDOW.of(T) == (T + timedelta(days=15), T + timedelta(days=30))
    assert FollowUpWindow(timedelta(0), timedelta(hours=1)).of(T) == (T, T + timedelta(hours=1))
    for after, due in (
        (timedelta(days=30), timedelta(days=15)),
        (timedelta(days=-1), T - T),
        (timedelta(days=5), timedelta(days=5)),
    ):
        with pytest.raises(ValueError, match="after < due"):
            FollowUpWindow(after, due)


def test_only_p1_and_p2_get_a_follow_up_call() -> None:
    assert needs_follow_up("P1")
    assert needs_follow_up("P2")
    assert not any(needs_follow_up(p) for p in ("P3", "P4", None))


def test_the_call_goes_to_the_owner_while_they_are_of_the_case_s_team() -> None:
    assert follow_up_assignee(owner="li", owner_team="billing", case_team="billing") == "li"
    assert follow_up_assignee(owner="li", owner_team="quality", case_team="billing") is None
    assert follow_up_assignee(owner="li", owner_team=None, case_team="billing") is None
    assert follow_up_assignee(owner=None, owner_team=None, case_team="billing") is None


def test_workable_from_the_window_and_overdue_after_the_due_time() -> None:
    assert available(available_from=None, now=T)
    assert available(available_from=T, now=T)
    assert not available(available_from=T, now=T - timedelta(microseconds=1))
    assert not overdue(status="open", due_at=T, now=T)  # the due time itself is in time
    assert overdue(status="open", due_at=T, now=T + timedelta(microseconds=1))
    assert not overdue(status="done", due_at=T, now=T + timedelta(days=1))


def test_each_kind_has_its_outcomes() -> None:
    assert set(OUTCOMES) == set(KINDS)
    # The database's uq_tasks_one_open holds every kind but the review (a task per reopen).
    assert set(KINDS) - SINGLE_OPEN_KINDS == {"review_reopen"}
    assert outcomes_of("review_reopen") == ("confirmed_fix", "reassigned", "coached", "no_action")
    assert outcomes_of("follow_up_call") == ("reached", "not_reached", "new_issue_raised")
    assert outcomes_of("customer_unreachable") == ("contacted", "not_reached")
    assert outcomes_of("unknown") == ()
    check_completion(kind="review_reopen", outcome="coached", csat=None)
    check_completion(kind="follow_up_call", outcome="reached", csat=5)
    check_completion(kind="follow_up_call", outcome="new_issue_raised", csat=1)
    check_completion(kind="follow_up_call", outcome="not_reached", csat=None)
    refused = [
        ("review_reopen", "reached", None),  # another kind's outcome
        ("follow_up_call", "coached", None),
        ("follow_up_call", "not_reached", 3),  # a CSAT from a customer not reached
        ("review_reopen", "coached", 4),  # nobody was asked
        ("follow_up_call", "reached", 0),
        ("follow_up_call", "reached", 6),
    ]
    for kind, outcome, csat in refused:
        with pytest.raises(InvalidInput) as error:
            check_completion(kind=kind, outcome=outcome, csat=csat)
        assert error.value.errors, (kind, outcome, csat)


@given(
    kind=st.sampled_from([*KINDS, "other"]),
    outcome=st.sampled_from([*ALL_OUTCOMES, "done"]),
    csat=st.one_of(st.none(), st.integers(min_value=-2, max_value=8)),
)
def test_completion_accepts_exactly_its_kind_s_outcomes_and_a_reached_customer_s_csat(
    kind: str, outcome: str, csat: int | None
) -> None:
    accepted = outcome in outcomes_of(kind) and (
        csat is None or (outcome in CSAT_OUTCOMES.get(kind, ()) and 1 <= csat <= 5)
    )
    try:
        check_completion(kind=kind, outcome=outcome, csat=csat)
    except InvalidInput:
        assert not accepted
    else:
        assert accepted


@given(
    resolved=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    after_d=st.floats(min_value=0, max_value=100, allow_nan=False),
    extra_d=st.floats(min_value=0.001, max_value=100, allow_nan=False),
)
def test_a_window_opens_before_it_falls_due(
    resolved: datetime, after_d: float, extra_d: float
) -> None:
    window = FollowUpWindow(timedelta(days=after_d), timedelta(days=after_d + extra_d))
    opens, due = window.of(resolved)
    assert resolved <= opens < due
    assert not available(available_from=opens, now=opens - timedelta(microseconds=1))
    assert not overdue(status="open", due_at=due, now=opens)


def _failed(**changes: object) -> NotificationFailed:
    base = example_for(NotificationFailed)
    assert isinstance(base, NotificationFailed)
    values = {"reason": "no_channel", "cause_event_type": ComplaintConfirmationRequested.ce_type()}
    return base.model_copy(update=values | changes)


def test_only_no_channel_for_the_customer_s_confirmation_request_wants_a_task() -> None:
    assert reports_unreachable_customer(_failed())
    assert not reports_unreachable_customer(_failed(reason=None))
    assert not reports_unreachable_customer(_failed(recipient_role="agent"))
    assert not reports_unreachable_customer(_failed(cause_event_type=ComplaintResolved.ce_type()))
    assert wants_unreachable_task(status="awaiting_confirmation")
    assert wants_unreachable_task(status="resolved")
    for status in ("closed", "reopened", "assigned", "in_progress"):
        assert not wants_unreachable_task(status=status)
