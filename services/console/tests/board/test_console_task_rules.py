"""The task rules the pages follow, per kind (routing's ``routing.tasks.domain``): the
outcomes each kind ends with, the CSAT only for a follow-up call that reached the customer,
a follow-up call completed only once its window opened, the board's groups of one kind
each, and the history labels of the tasks and of a customer nobody reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from console.board.domain.task_view import task_group, task_view
from console.board.domain.tasks import (
    ALL_OUTCOMES,
    KINDS,
    OUTCOMES,
    completion_problems,
    csat_outcomes,
    outcomes_of,
    parse_csat,
    task_actions,
)
from console.cases.domain.case_view import conversation_of
from console_support import follow_up_call, task, task_page, unreachable_task

NOW = datetime(2026, 12, 20, 8, 0, tzinfo=UTC)


def test_each_kind_ends_with_its_own_outcomes() -> None:
    assert KINDS == ("review_reopen", "follow_up_call", "customer_unreachable")
    assert outcomes_of("review_reopen") == ("confirmed_fix", "reassigned", "coached", "no_action")
    assert outcomes_of("follow_up_call") == ("reached", "not_reached", "new_issue_raised")
    assert outcomes_of("customer_unreachable") == ("contacted", "not_reached")
    assert outcomes_of("a_kind_added_later") == ()
    assert set(ALL_OUTCOMES) == {o for outcomes in OUTCOMES.values() for o in outcomes}
    assert len(ALL_OUTCOMES) == 8  # not_reached once


def test_only_a_follow_up_call_that_reached_the_customer_takes_a_csat() -> None:
    assert csat_outcomes("follow_up_call") == {"reached", "new_issue_raised"}
    assert csat_outcomes("review_reopen") == frozenset()
    assert csat_outcomes("customer_unreachable") == frozenset()


def _problems(kind: str, outcome: str, csat: str = "", note: str = "") -> dict[str, str | None]:
    found = completion_problems(kind=kind, outcome=outcome, note=note, csat=csat)
    return {p.field: p.key for p in found}


@pytest.mark.parametrize(
    ("kind", "outcome", "csat", "expected"),
    [
        ("follow_up_call", "reached", "", {}),
        ("follow_up_call", "reached", "5", {}),
        ("follow_up_call", "new_issue_raised", " 1 ", {}),
        ("follow_up_call", "not_reached", "", {}),
        ("follow_up_call", "not_reached", "3", {"csat": "csat_not_asked"}),
        ("follow_up_call", "reached", "0", {"csat": "csat_range"}),
        ("follow_up_call", "reached", "6", {"csat": "csat_range"}),
        ("follow_up_call", "reached", "4.5", {"csat": "csat_range"}),
        ("follow_up_call", "reached", "-1", {"csat": "csat_range"}),
        ("follow_up_call", "coached", "", {"outcome": "choice"}),
        ("follow_up_call", "", "", {"outcome": "required"}),
        ("review_reopen", "confirmed_fix", "", {}),
        ("review_reopen", "confirmed_fix", "4", {"csat": "csat_not_asked"}),
        ("review_reopen", "reached", "", {"outcome": "choice"}),
        ("customer_unreachable", "contacted", "", {}),
        ("customer_unreachable", "not_reached", "", {}),
        ("customer_unreachable", "contacted", "5", {"csat": "csat_not_asked"}),
        ("customer_unreachable", "confirmed_fix", "", {"outcome": "choice"}),
        # a form that did not say its kind: any known outcome, routing decides
        ("", "contacted", "", {}),
        ("", "reached", "2", {}),
        ("", "solved_it", "", {"outcome": "choice"}),
    ],
)
def test_a_completion_is_checked_against_its_kind(
    kind: str, outcome: str, csat: str, expected: dict[str, str]
) -> None:
    assert _problems(kind, outcome, csat) == expected


def test_the_csat_the_form_sends() -> None:
    assert parse_csat("") is None
    assert parse_csat(" 4 ") == 4
    assert parse_csat("abc") is None
    assert parse_csat("-1") is None
    assert parse_csat("1" * 50) is None


def _offers(
    kind: str,
    *,
    roles: tuple[str, ...] = ("lead",),
    assignee: str | None = None,
    available_from: datetime | None = None,
) -> set[str]:
    return set(
        task_actions(
            roles=roles,
            subject="me",
            team="billing",
            task_team="billing",
            task_status="open",
            task_assignee=assignee,
            task_kind=kind,
            available_from=available_from,
            now=NOW,
        )
    )


def test_a_follow_up_call_is_completed_only_once_its_window_opened() -> None:
    later, earlier = NOW + timedelta(days=3), NOW - timedelta(days=1)
    assert _offers("follow_up_call", available_from=later) == {"take", "assign", "complete_later"}
    assert _offers("follow_up_call", available_from=earlier) == {"take", "assign", "complete"}
    assert _offers("follow_up_call", available_from=NOW) == {
        "take",
        "assign",
        "complete",
    }  # from then
    agent: dict[str, Any] = {"roles": ("agent",), "assignee": "me"}
    assert _offers("follow_up_call", available_from=later, **agent) == {"complete_later"}
    assert _offers("follow_up_call", available_from=earlier, **agent) == {"complete"}
    assert _offers("customer_unreachable") == {"take", "assign", "complete"}
    # a kind this console has no outcomes for is not completed from its pages
    assert _offers("a_kind_added_later") == {"take", "assign"}


def test_routing_s_task_as_the_pages_read_it() -> None:
    done = task_view(
        follow_up_call(status="done", outcome="reached", csat=4, completed_at=NOW.isoformat())
    )
    assert (done.kind, done.outcome, done.csat, done.completed_at) == (
        "follow_up_call",
        "reached",
        4,
        NOW,
    )
    assert done.available_from is not None
    old = task_view({"id": 3, "kind": "review_reopen", "status": "open"})  # an older routing
    assert (old.available_from, old.overdue, old.csat) == (None, False, None)
    assert old.available(NOW)
    assert task_view(task(csat=True, overdue="yes")).csat is None
    assert not task_view(task(overdue="yes")).overdue


def test_the_board_groups_one_kind_and_puts_calls_not_due_yet_apart() -> None:
    now = datetime.now(UTC)
    due, soon = follow_up_call(), follow_up_call(id=10, resolved_days_ago=3)
    answer = task_page(due, soon, task(), overdue_count=2, next="cursor")
    group = task_group(answer, kind="follow_up_call", now=now)
    assert [t.id for t in group.tasks] == [8]
    assert [t.id for t in group.later] == [10]
    assert [t.id for t in group.all] == [8, 10]
    assert (group.overdue_count, group.more) == (2, True)
    reviews = task_group(answer, kind="review_reopen", now=now)
    assert [t.id for t in reviews.tasks] == [5]  # the other kinds left out
    older = task_group({"items": [unreachable_task()]}, kind="customer_unreachable", now=now)
    assert ([t.id for t in older.tasks], older.overdue_count) == ([9], 0)  # no overdue_count
    empty = task_group(None, kind="review_reopen", now=now)
    assert (empty.tasks, empty.later, empty.overdue_count, empty.more) == ((), (), 0, False)


def _history(action: str, **detail: Any) -> dict[str, Any]:
    return {
        "actor": "routing",
        "action": action,
        "from_status": "resolved",
        "to_status": "closed" if action == "closed" else "resolved",
        "detail": detail,
        "at": NOW.isoformat(),
    }


def test_history_labels_of_tasks_and_of_a_customer_nobody_reached() -> None:
    entries = conversation_of(
        {
            "actions": [
                _history("task_rescheduled", task_id=8, kind="follow_up_call"),
                _history("task_completed", task_id=8, kind="follow_up_call", outcome="reached"),
                _history("closed", reason="auto_closed", not_reached=True),
                _history("closed", reason="auto_closed"),
            ]
        }
    )[1:]
    assert [(e.subtype, e.task_kind, e.task_outcome) for e in entries] == [
        ("task_rescheduled", "follow_up_call", None),
        ("task_completed", "follow_up_call", "reached"),
        ("closed_not_reached", None, None),
        ("closed", None, None),
    ]
