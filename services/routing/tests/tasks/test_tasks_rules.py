"""The tasks' pure rules: who sees, assigns and completes a task; the list cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from complaint_runtime.errors import InvalidInput
from routing.tasks.domain.listing import TaskFilters, TaskPosition, decode_cursor, encode_cursor
from routing.tasks.domain.rules import may_assign, may_complete, task_visibility_of

T = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_who_sees_tasks() -> None:
    manager = task_visibility_of(roles={"manager"}, subject="m", team=None)
    assert manager.everything
    assert task_visibility_of(roles={"admin"}, subject="a", team=None).everything
    lead = task_visibility_of(roles={"lead"}, subject="l", team="billing")
    assert lead.admits(case_team="billing", case_assignee=None)
    assert lead.admits(case_team="quality", case_assignee="l")
    assert not lead.admits(case_team="quality", case_assignee=None)
    agent = task_visibility_of(roles={"agent"}, subject="li", team="billing")
    assert not agent.admits(case_team="billing", case_assignee=None)  # not the team's
    assert agent.admits(case_team="billing", case_assignee="li")
    assert task_visibility_of(roles={"service"}, subject="s", team=None).nothing
    assert not task_visibility_of(roles={"lead"}, subject="l", team=None).admits(
        case_team="billing", case_assignee=None
    )


def test_who_assigns_and_completes() -> None:
    assert may_assign(roles={"manager"}, team=None, task_team="billing")
    assert may_assign(roles={"lead"}, team="billing", task_team="billing")
    assert not may_assign(roles={"lead"}, team="quality", task_team="billing")
    assert not may_assign(roles={"lead"}, team=None, task_team="billing")
    assert not may_assign(roles={"agent"}, team="billing", task_team="billing")
    assert not may_assign(roles={"admin"}, team=None, task_team="billing")
    common = {"team": "billing", "task_team": "billing", "task_assignee": "li"}
    assert may_complete(roles={"agent"}, subject="li", **common)
    assert not may_complete(roles={"agent"}, subject="ma", **common)
    assert may_complete(roles={"lead"}, subject="zhao", **common)
    assert may_complete(roles={"manager"}, subject="sun", **common)
    assert not may_complete(roles={"admin"}, subject="li", **common)  # no staff role


def test_the_cursor_is_bound_to_its_filters() -> None:
    filters = TaskFilters(status="open", assignee="me")
    cursor = encode_cursor(TaskPosition(T, 42), filters_digest=filters.digest())
    assert decode_cursor(cursor, filters_digest=filters.digest()) == TaskPosition(T, 42)
    for other in (TaskFilters(status="open"), TaskFilters(status="done", assignee="me")):
        with pytest.raises(InvalidInput):
            decode_cursor(cursor, filters_digest=other.digest())
    for broken in ("", "%%%", "eyJ2IjoyfQ", "x" * 400):
        with pytest.raises(InvalidInput):
            decode_cursor(broken, filters_digest=filters.digest())
