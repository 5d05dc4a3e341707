"""Routing's tasks (``GET /v1/tasks`` items, the case file's ``tasks``) as the board, the
case page and "My tasks" show them, the board's groups of one kind each and a page of one
kind of the user's own tasks.

Routing computes ``overdue`` (open and past its due time) when it answers, and counts the
overdue tasks of a list over all its pages (``overdue_count``). A follow-up call (回访) is
made in its window: from ``available_from`` until ``due_at``; the board lists the calls
whose window is open apart from those scheduled later."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.queue.domain.rows import parse_time


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    kind: str
    complaint_id: str
    team: str | None
    status: str
    assignee: str | None
    reason: str | None
    due_at: datetime | None
    available_from: datetime | None  # None: workable at once
    overdue: bool
    outcome: str | None = None
    csat: int | None = None
    note: str | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None

    def available(self, now: datetime) -> bool:
        """Workable now: no window, or its window has opened."""
        return window_open(self.available_from, now)


def window_open(available_from: datetime | None, now: datetime) -> bool:
    """A task without a window start is workable at once; else from ``available_from``
    (the one rule: ``TaskView.available`` and the task forms' offers use it)."""
    return available_from is None or now >= available_from


def task_view(item: Mapping[str, Any]) -> TaskView:
    return TaskView(
        id=_int(item.get("id")) or 0,
        kind=str(item.get("kind", "")),
        complaint_id=str(item.get("complaint_id", "")),
        team=_text(item.get("team")),
        status=str(item.get("status", "")),
        assignee=_text(item.get("assignee")),
        reason=_text(item.get("reason")),
        due_at=parse_time(item.get("due_at")),
        available_from=parse_time(item.get("available_from")),
        overdue=item.get("overdue") is True,
        outcome=_text(item.get("outcome")),
        csat=_int(item.get("csat")),
        note=_text(item.get("note")),
        completed_by=_text(item.get("completed_by")),
        completed_at=parse_time(item.get("completed_at")),
    )


def task_views(value: object) -> tuple[TaskView, ...]:
    """A list of routing's tasks (anything else: none)."""
    if not isinstance(value, list):
        return ()
    return tuple(task_view(t) for t in value if isinstance(t, Mapping))


@dataclass(frozen=True, slots=True)
class TaskList:
    """A page of one kind of tasks in routing's order (by due time), as "My tasks" lists
    them: the calls whose window opens later among the others, each saying when."""

    kind: str
    tasks: tuple[TaskView, ...]
    overdue_count: int  # over every page of the list, as routing counted them
    next_cursor: str | None  # routing's cursor of the next page; None: the last one


def task_list(answer: object, *, kind: str) -> TaskList:
    """A page of ``GET /v1/tasks?kind=<kind>`` (items of another kind are left out: a
    routing that does not filter by kind answers them all)."""
    page: Mapping[str, Any] = answer if isinstance(answer, Mapping) else {}
    return TaskList(
        kind=kind,
        tasks=tuple(t for t in task_views(page.get("items")) if t.kind == kind),
        overdue_count=max(0, _int(page.get("overdue_count")) or 0),
        next_cursor=_text(page.get("next")),
    )


@dataclass(frozen=True, slots=True)
class TaskGroup:
    """One kind of the team's open tasks on the board."""

    kind: str
    tasks: tuple[TaskView, ...]  # workable now, by due time
    later: tuple[TaskView, ...]  # their window opens later (follow-up calls)
    overdue_count: int  # over every page of the list, as routing counted them
    more: bool  # routing has more of them than this page

    @property
    def all(self) -> tuple[TaskView, ...]:
        return (*self.tasks, *self.later)


def task_group(answer: object, *, kind: str, now: datetime) -> TaskGroup:
    """A page of ``GET /v1/tasks?kind=<kind>`` as one group of the board."""
    page = task_list(answer, kind=kind)
    return TaskGroup(
        kind=kind,
        tasks=tuple(t for t in page.tasks if t.available(now)),
        later=tuple(t for t in page.tasks if not t.available(now)),
        overdue_count=page.overdue_count,
        more=page.next_cursor is not None,
    )


@dataclass(frozen=True, slots=True)
class TaskCount:
    """The navigation's count of the user's open tasks: those workable now (a follow-up
    call waiting for its window is not yet) and the overdue ones."""

    workable: int
    more: bool  # routing has more open tasks than the page counted
    overdue: int  # over every page, as routing counted them


def task_count(answer: object, *, now: datetime) -> TaskCount:
    """A page of ``GET /v1/tasks`` (of any kind) counted."""
    page: Mapping[str, Any] = answer if isinstance(answer, Mapping) else {}
    return TaskCount(
        workable=sum(1 for t in task_views(page.get("items")) if t.available(now)),
        more=_text(page.get("next")) is not None,
        overdue=max(0, _int(page.get("overdue_count")) or 0),
    )
