"""Task use cases: the review task a reopen creates (in the consumer's transaction), the
task lists with their overdue count, assigning and completing a task (with its kind's
outcome, a follow-up call's CSAT, in its window), the tasks the case file shows. The tasks
routing opens on a resolution or notify's report are in :mod:`routing.tasks.opening`.

Every change of a task is an entry of its case's history (``task_created``,
``task_assigned``, ``task_completed``, with the actor) in the same transaction; none moves
the case's version (a task is not a change to the case) and none is an event on the
routing topic (tasks are routing's own work items). Locks: the case row, then the task row.

Refusals are domain errors: ``NotFound`` (no such task, or one the caller may not see),
``Forbidden`` (sees it, may not do this), ``TaskDoneError`` (409), ``TaskNotAvailableError``
(409: a follow-up call before its window), ``UnknownTargetError`` (422: the assignee is not
an agent of the task's team), ``InvalidInput`` (an outcome of another kind, a CSAT where
nobody was asked, a cursor of another list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Forbidden, InvalidInput, NotFound, field_error
from complaint_runtime.identity import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from routing.assignment.db import AssignmentRepository
from routing.assignment.domain.errors import UnknownTargetError
from routing.casefile.domain.visibility import Visibility
from routing.cases.domain.errors import NoChangeError
from routing.cases.transitions import ROUTING, Actor, masked, now_utc, record
from routing.db import Case, CaseRepository
from routing.tasks.db import ID_LENGTH, Task, TaskRepository
from routing.tasks.domain.errors import TaskDoneError, TaskNotAvailableError
from routing.tasks.domain.follow_up import available
from routing.tasks.domain.listing import (
    MAX_LIMIT,
    TaskFilters,
    TaskPosition,
    decode_cursor,
    encode_cursor,
)
from routing.tasks.domain.outcomes import check_completion
from routing.tasks.domain.rules import (
    due_at,
    leads_team,
    may_assign,
    may_complete,
    overdue,
    task_visibility_of,
)

ME = "me"
MAX_TASKS_PER_CASE = 100


@dataclass(frozen=True)
class TaskView:
    id: int
    kind: str
    complaint_id: str
    team: str
    status: str
    assignee: str | None
    reason: str | None
    detail: dict[str, Any]
    created_by: str
    created_at: datetime
    due_at: datetime
    available_from: datetime | None
    overdue: bool
    assigned_by: str | None
    assigned_at: datetime | None
    outcome: str | None
    csat: int | None
    note: str | None
    completed_by: str | None
    completed_at: datetime | None

    @classmethod
    def of(cls, task: Task, *, now: datetime | None = None) -> TaskView:
        return cls(
            id=task.id,
            kind=task.kind,
            complaint_id=task.complaint_id,
            team=task.team,
            status=task.status,
            assignee=task.assignee,
            reason=task.reason,
            detail=dict(task.detail or {}),
            created_by=task.created_by,
            created_at=task.created_at,
            due_at=task.due_at,
            available_from=task.available_from,
            overdue=overdue(status=task.status, due_at=task.due_at, now=now or now_utc()),
            assigned_by=task.assigned_by,
            assigned_at=task.assigned_at,
            outcome=task.outcome,
            csat=task.csat,
            note=task.note,
            completed_by=task.completed_by,
            completed_at=task.completed_at,
        )


@dataclass(frozen=True)
class TaskPage:
    tasks: list[TaskView]
    next_cursor: str | None  # None: the last page
    overdue_count: int = 0  # visible open tasks past due with these filters, every page


def _visibility(principal: Principal) -> Visibility:
    return task_visibility_of(roles=principal.roles, subject=principal.subject, team=principal.team)


def _not_found() -> NotFound:
    return NotFound(title="Task not found")


# -- created by a reopen (the consumer's transaction)


async def open_review_task(
    *,
    uow: UnitOfWork,
    case: Case,
    reason: str,
    detail: dict[str, Any],
    event_id: str,
    within: timedelta,
    at: datetime,
) -> int | None:
    """A ``review_reopen`` task for the lead of the case's team, unassigned, due ``within``
    from ``at``; once per reopen event. Returns its id (None: the event made it before)."""
    team = case.team
    if team is None:  # a reopened case is always assigned to a team first
        raise ValueError(f"case {case.complaint_id} has no team to review it")
    task_id = await TaskRepository(uow.session).add_once(
        {
            "kind": "review_reopen",
            "complaint_id": case.complaint_id,
            "team": team,
            "status": "open",
            "reason": reason,
            "detail": detail,
            "source_event_id": event_id[:ID_LENGTH],
            "created_by": ROUTING.id,
            "created_at": at,
            "due_at": due_at(at, within=within),
            "updated_at": at,
        }
    )
    if task_id is None:
        return None
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
            "kind": "review_reopen",
            "team": team,
            "reason": reason,
            "due_at": due_at(at, within=within).isoformat(),
        },
        at=at,
    )
    return task_id


# -- reads


async def list_tasks(
    *,
    database: Database,
    principal: Principal,
    filters: TaskFilters,
    limit: int,
    cursor: str | None = None,
) -> TaskPage:
    """One page of the visible tasks matching ``filters``, by due time, and how many of the
    visible tasks matching its team, assignee and kind filters are overdue now."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}.",
            errors=[field_error("limit", f"1..{MAX_LIMIT}", code="range", location="query")],
        )
    digest = filters.digest()
    after = decode_cursor(cursor, filters_digest=digest) if cursor is not None else None
    visibility = _visibility(principal)
    if visibility.nothing:
        return TaskPage([], None)
    assignee = principal.subject if filters.assignee == ME else filters.assignee
    now = now_utc()
    async with database.sessions() as session:
        tasks = TaskRepository(session)
        found = await tasks.list_tasks(
            visibility=visibility,
            filters=filters,
            assignee=assignee,
            after=after,
            limit=limit + 1,
            now=now,
        )
        late = await tasks.count_overdue(
            visibility=visibility, filters=filters, assignee=assignee, now=now
        )
    page = found[:limit]
    next_cursor = None
    if len(found) > limit and page:
        last = page[-1]
        next_cursor = encode_cursor(TaskPosition(last.due_at, last.id), filters_digest=digest)
    return TaskPage([TaskView.of(t, now=now) for t in page], next_cursor, late)


async def get_task(*, database: Database, task_id: int, principal: Principal) -> TaskView:
    async with database.sessions() as session:
        task = await TaskRepository(session).get(task_id)
        if task is None or not _sees(principal, task):
            raise _not_found()
        return TaskView.of(task)


async def tasks_of_case(*, session: AsyncSession, complaint_id: str) -> list[TaskView]:
    """The case's tasks for its case file (whoever may see the case sees them)."""
    tasks = await TaskRepository(session).of_case(complaint_id, limit=MAX_TASKS_PER_CASE)
    return [TaskView.of(t) for t in tasks]


def _sees(principal: Principal, task: Task) -> bool:
    return _visibility(principal).admits(case_team=task.team, case_assignee=task.assignee)


# -- changes


async def assign_task(
    *, database: Database, task_id: int, principal: Principal, assignee: str
) -> TaskView:
    """Give an open task to ``assignee``: an agent of the task's team, or the calling lead
    of that team themself. The lead of the team or a manager decides."""
    async with database.unit_of_work() as uow:
        case, task = await _locked(uow, task_id, principal)
        if not may_assign(roles=principal.roles, team=principal.team, task_team=task.team):
            raise Forbidden("Only the lead of the task's team or a manager assigns a task.")
        if task.status == "done":
            raise TaskDoneError(task.id)
        await _check_assignee(uow, principal, task, assignee)
        previous = task.assignee
        if previous == assignee:
            raise NoChangeError(f"The task is assigned to {assignee} already.", title="No change")
        now = now_utc()
        task.assignee, task.assigned_by, task.assigned_at = assignee, principal.subject, now
        task.updated_at = now
        _history(uow, case, task, principal, "task_assigned", now, previous_assignee=previous)
        return TaskView.of(task)


async def complete_task(
    *,
    database: Database,
    task_id: int,
    principal: Principal,
    outcome: str,
    note: str | None = None,
    csat: int | None = None,
) -> TaskView:
    """Complete an open task with an ``outcome`` of its kind, an optional note (contacts
    masked) and, for a follow-up call that reached the customer, their optional CSAT: its
    assignee, the lead of its team or a manager; a follow-up call in its window only."""
    async with database.unit_of_work() as uow:
        case, task = await _locked(uow, task_id, principal)
        if not may_complete(
            roles=principal.roles,
            subject=principal.subject,
            team=principal.team,
            task_team=task.team,
            task_assignee=task.assignee,
        ):
            raise Forbidden("The task's assignee, the lead of its team or a manager completes it.")
        if task.status == "done":
            raise TaskDoneError(task.id)
        check_completion(kind=task.kind, outcome=outcome, csat=csat)
        now = now_utc()
        if not available(available_from=task.available_from, now=now):
            raise TaskNotAvailableError(task.id, task.available_from or now)
        task.status, task.outcome, task.csat = "done", outcome, csat
        task.note = masked(note.strip()) if note and note.strip() else None
        task.completed_by, task.completed_at, task.updated_at = principal.subject, now, now
        _history(uow, case, task, principal, "task_completed", now, outcome=outcome, csat=csat)
        return TaskView.of(task)


async def forget(*, uow: UnitOfWork, complaint_id: str) -> None:
    """Erasure (§10): the completion notes of the case's tasks and the customer's masked
    address in their detail are blanked."""
    await TaskRepository(uow.session).erase(complaint_id)


async def _locked(uow: UnitOfWork, task_id: int, principal: Principal) -> tuple[Case, Task]:
    """The task and its case, both row-locked (case first, as every case change does);
    ``NotFound`` for an unknown task and one the caller may not see."""
    tasks = TaskRepository(uow.session)
    task = await tasks.get(task_id)
    if task is None or not _sees(principal, task):
        raise _not_found()
    case = await CaseRepository(uow.session).get_for_update(task.complaint_id)
    task = await tasks.get_for_update(task_id)
    if case is None or task is None:
        raise _not_found()
    return case, task


async def _check_assignee(uow: UnitOfWork, principal: Principal, task: Task, assignee: str) -> None:
    if assignee == principal.subject and leads_team(
        roles=principal.roles, team=principal.team, task_team=task.team
    ):
        return  # the lead picks it up
    agent = await AssignmentRepository(uow.session).agent(assignee)
    if agent is None or agent.team != task.team:
        detail = f"{assignee} is not an agent of team {task.team}"
        raise UnknownTargetError(
            title="Unknown assignee", errors=[field_error("assignee", detail, code="unknown")]
        )


def _history(
    uow: UnitOfWork,
    case: Case,
    task: Task,
    principal: Principal,
    action: str,
    at: datetime,
    **detail: Any,
) -> None:
    record(
        uow,
        case,
        actor=Actor(principal.subject),
        action=action,
        from_status=case.status,
        to_status=case.status,
        event_id=None,
        detail={"task_id": task.id, "kind": task.kind, "assignee": task.assignee, **detail},
        at=at,
    )
