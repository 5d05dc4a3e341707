"""Routing's tasks (``GET /v1/tasks`` items, the case file's ``tasks``) as the board and the
case page show them, and the board's groups of one kind each.

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
        return self.available_from is None or now >= self.available_from


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
    """A page of ``GET /v1/tasks?kind=<kind>`` as one group (items of another kind are left
    out: a routing that does not filter by kind answers them all)."""
    page: Mapping[str, Any] = answer if isinstance(answer, Mapping) else {}
    tasks = [t for t in task_views(page.get("items")) if t.kind == kind]
    return TaskGroup(
        kind=kind,
        tasks=tuple(t for t in tasks if t.available(now)),
        later=tuple(t for t in tasks if not t.available(now)),
        overdue_count=max(0, _int(page.get("overdue_count")) or 0),
        more=page.get("next") is not None,
    )
