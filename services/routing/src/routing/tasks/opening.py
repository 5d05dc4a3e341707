"""Tasks routing opens by itself, each in the transaction of what caused it: the 回访
follow-up call of a P1/P2 resolution (the resolve command's transaction) and the lead's
task about a customer no channel reaches (the consumer's transaction of notify's report).
The review task of a reopen is :func:`routing.tasks.service.open_review_task`. When a case
closes without a resolution (withdrawn, or merged into another case), routing completes
these tasks itself (:func:`close_tasks_of_closed_case`, outcome ``case_closed``).

The rules (window, owner, when a task is wanted) are in
:mod:`routing.tasks.domain.follow_up`. A case has at most one open task of these kinds:
the case row is locked by the caller, the open task is looked up first, and the database's
partial unique index (``add_open_once``) holds should anything slip past. Every task
created or moved is a history entry of the case; none moves the case's version or is an
event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from complaint_contracts.events import NotificationFailed
from complaint_runtime.database import UnitOfWork

from routing.assignment.db import AssignmentRepository
from routing.assignment.domain.category_ownership import team_for_category
from routing.cases.transitions import ROUTING, now_utc, record
from routing.db import Case, CaseRepository
from routing.tasks.db import ID_LENGTH, Task, TaskRepository
from routing.tasks.domain.follow_up import (
    DEFAULT_UNREACHABLE_DUE,
    DEFAULT_WINDOW,
    FollowUpWindow,
    follow_up_assignee,
    needs_follow_up,
    reports_unreachable_customer,
    wants_unreachable_task,
)
from routing.tasks.domain.outcomes import CASE_CLOSED, SYSTEM_OUTCOMES
from routing.tasks.domain.rules import TaskKind


async def open_follow_up_call(
    *,
    uow: UnitOfWork,
    case: Case,
    event_id: str | None,
    resolved_at: datetime,
    window: FollowUpWindow = DEFAULT_WINDOW,
) -> int | None:
    """The follow-up call of a P1/P2 case just resolved (``case`` locked by the caller):
    a new task in the window after ``resolved_at``, or the case's open one moved to it (a
    resolution after a reopen). Its id; None for other priorities."""
    if not needs_follow_up(case.priority):
        return None
    team = case.team or team_for_category(case.category)
    available_from, due_at = window.of(resolved_at)
    tasks = TaskRepository(uow.session)
    existing = await tasks.open_of_kind(case.complaint_id, "follow_up_call")
    if existing is not None:
        _reschedule(
            uow,
            case,
            existing,
            available_from=available_from,
            due_at=due_at,
            at=resolved_at,
            event_id=event_id,
        )
        return existing.id
    owner = case.owner
    agent = await AssignmentRepository(uow.session).agent(owner) if owner else None
    assignee = follow_up_assignee(
        owner=owner, owner_team=agent.team if agent else None, case_team=team
    )
    values: dict[str, Any] = {
        "available_from": available_from,
        "assignee": assignee,
        "assigned_by": ROUTING.id if assignee else None,
        "assigned_at": resolved_at if assignee else None,
    }
    return await _open(
        uow,
        case,
        kind="follow_up_call",
        team=team,
        reason="resolved",
        detail={"priority": case.priority, "resolved_at": resolved_at.isoformat()},
        event_id=event_id,
        at=resolved_at,
        due_at=due_at,
        values=values,
    )


async def open_unreachable_task(
    *,
    uow: UnitOfWork,
    failed: NotificationFailed,
    event_id: str,
    within: timedelta = DEFAULT_UNREACHABLE_DUE,
    at: datetime | None = None,
) -> int | None:
    """notify could not reach the customer about the confirmation request: a
    ``customer_unreachable`` task for the lead of the case's team, due ``within``, once per
    case while open. Other failures, and a case no longer waiting for the customer's
    confirmation, open nothing. Its id; None when nothing was opened."""
    if not reports_unreachable_customer(failed):
        return None
    case = await CaseRepository(uow.session).get_for_update(failed.complaint_id)
    if case is None:
        # notify reports on complaints routing created (a confirmation request follows
        # routing's own resolution): an unknown one is a poison record.
        raise LookupError(f"event {event_id} is about unknown case {failed.complaint_id}")
    if not wants_unreachable_task(status=case.status):
        return None
    at = at or now_utc()
    if await TaskRepository(uow.session).open_of_kind(case.complaint_id, "customer_unreachable"):
        return None  # the request's reminder failed too: the lead knows already
    return await _open(
        uow,
        case,
        kind="customer_unreachable",
        team=case.team or team_for_category(case.category),
        reason=failed.reason,
        detail={
            "notification_id": failed.notification_id,
            "cause_event_id": failed.cause_event_id,
            "recipient": failed.recipient,
        },
        event_id=event_id,
        at=at,
        due_at=at + within,
        values={},
    )


async def _open(
    uow: UnitOfWork,
    case: Case,
    *,
    kind: TaskKind,
    team: str,
    reason: str | None,
    detail: dict[str, Any],
    event_id: str | None,
    at: datetime,
    due_at: datetime,
    values: dict[str, Any],
) -> int | None:
    task_id = await TaskRepository(uow.session).add_open_once(
        {
            "kind": kind,
            "complaint_id": case.complaint_id,
            "team": team,
            "status": "open",
            "reason": reason,
            "detail": detail,
            "source_event_id": event_id[:ID_LENGTH] if event_id else None,
            "created_by": ROUTING.id,
            "created_at": at,
            "due_at": due_at,
            "updated_at": at,
            **values,
        }
    )
    if task_id is None:
        return None
    available_from = values.get("available_from")
    record(
        uow,
        case,
        actor=ROUTING,
        action="task_created",
        from_status=case.status,
        to_status=case.status,
        event_id=event_id,
        detail={
            "task_id": task_id,
            "kind": kind,
            "team": team,
            "assignee": values.get("assignee"),
            "reason": reason,
            "available_from": available_from.isoformat() if available_from else None,
            "due_at": due_at.isoformat(),
        },
        at=at,
    )
    return task_id


def _reschedule(
    uow: UnitOfWork,
    case: Case,
    task: Task,
    *,
    available_from: datetime,
    due_at: datetime,
    at: datetime,
    event_id: str | None,
) -> None:
    """The open follow-up call now follows the latest resolution."""
    task.available_from, task.due_at, task.updated_at = available_from, due_at, at
    record(
        uow,
        case,
        actor=ROUTING,
        action="task_rescheduled",
        from_status=case.status,
        to_status=case.status,
        event_id=event_id,
        detail={
            "task_id": task.id,
            "kind": task.kind,
            "available_from": available_from.isoformat(),
            "due_at": due_at.isoformat(),
        },
        at=at,
    )


async def close_tasks_of_closed_case(
    *, uow: UnitOfWork, case: Case, at: datetime, event_id: str | None
) -> list[int]:
    """The case just closed without a resolution (withdrawn, merged; ``case`` locked by the
    caller): its open ``follow_up_call`` and ``customer_unreachable`` tasks are done with
    the system outcome ``case_closed``, by routing, each a ``task_completed`` history entry
    in the caller's transaction. Their ids."""
    tasks = TaskRepository(uow.session)
    closed: list[int] = []
    for kind in sorted(SYSTEM_OUTCOMES):
        task = await tasks.open_of_kind(case.complaint_id, kind)
        if task is None:
            continue
        task.status, task.outcome = "done", CASE_CLOSED
        task.completed_by, task.completed_at, task.updated_at = ROUTING.id, at, at
        record(
            uow,
            case,
            actor=ROUTING,
            action="task_completed",
            from_status=case.status,
            to_status=case.status,
            event_id=event_id,
            detail={
                "task_id": task.id,
                "kind": task.kind,
                "assignee": task.assignee,
                "outcome": CASE_CLOSED,
                "close_reason": case.close_reason,
            },
            at=at,
        )
        closed.append(task.id)
    return closed
