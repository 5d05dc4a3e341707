"""The task API: the tasks a caller sees, a page at a time with the count of overdue ones,
and assigning and completing one. Leads see their team's tasks, managers and administrators
all, agents (and leads) those assigned to them; a task the caller may not see is a 404 like
an unknown one. Kinds: review of a reopen, the 回访 follow-up call, an unreachable customer.

Problems: 401/403 (no token; a role that works no task; sees the task but may not do
this), 404, 409 ``task-done``, ``task-not-available`` (a follow-up call before its window)
or ``no-change``, 422 ``unknown-target`` (the assignee is not an agent of the task's team),
``invalid-cursor`` or ``validation`` (also an outcome of another kind), 503.
"""

from __future__ import annotations

from typing import Annotated, Any

from complaint_runtime.auth import Principal, require_roles
from fastapi import APIRouter, Depends, Path, Query

from routing.auth import StaffDep
from routing.bootstrap import DependenciesDep
from routing.tasks import service
from routing.tasks.domain.listing import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, TaskFilters
from routing.tasks.domain.rules import TaskKind, TaskStatus
from routing.tasks.schemas import USER_ID, AssignTaskIn, CompleteTaskIn, TaskListOut, TaskOut

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 409, 413, 422, 503), PROBLEM
)
ReaderDep = Annotated[Principal, Depends(require_roles("agent", "lead", "manager", "admin"))]
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get(
    "",
    response_model=TaskListOut,
    responses=ERRORS,
    summary="The caller's visible tasks, filtered, by due time, a page at a time; and how "
    "many are overdue",
)
async def list_tasks(
    deps: DependenciesDep,
    caller: ReaderDep,
    status: Annotated[TaskStatus | None, Query(description="open or done")] = None,
    team: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$", description="Team code")
    ] = None,
    assignee: Annotated[
        str | None, Query(pattern=USER_ID, description="Assignee user id, or `me`")
    ] = None,
    kind: Annotated[TaskKind | None, Query(description="Task kind")] = None,
    overdue: Annotated[
        bool | None,
        Query(description="true: open tasks past their due time; false: the others"),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1..{MAX_LIMIT}")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="The `next` of the previous page (with the same filters)",
        ),
    ] = None,
) -> TaskListOut:
    filters = TaskFilters(status=status, team=team, assignee=assignee, kind=kind, overdue=overdue)
    page = await service.list_tasks(
        database=deps.database, principal=caller, filters=filters, limit=limit, cursor=cursor
    )
    return TaskListOut.of(page)


@router.get("/{task_id}", response_model=TaskOut, responses=ERRORS, summary="A task")
async def get_task(task_id: TaskId, deps: DependenciesDep, caller: ReaderDep) -> TaskOut:
    view = await service.get_task(database=deps.database, task_id=task_id, principal=caller)
    return TaskOut.of(view)


@router.post(
    "/{task_id}/assign",
    response_model=TaskOut,
    responses=ERRORS,
    summary="Give an open task to an agent of its team, or pick it up (the team's lead, a manager)",
)
async def assign_task(
    task_id: TaskId, body: AssignTaskIn, deps: DependenciesDep, caller: StaffDep
) -> TaskOut:
    view = await service.assign_task(
        database=deps.database, task_id=task_id, principal=caller, assignee=body.assignee
    )
    return TaskOut.of(view)


@router.post(
    "/{task_id}/complete",
    response_model=TaskOut,
    responses=ERRORS,
    summary="Complete an open task with an outcome of its kind (its assignee, the team's lead, "
    "a manager); a follow-up call with the customer's CSAT",
)
async def complete_task(
    task_id: TaskId, body: CompleteTaskIn, deps: DependenciesDep, caller: StaffDep
) -> TaskOut:
    view = await service.complete_task(
        database=deps.database,
        task_id=task_id,
        principal=caller,
        outcome=body.outcome,
        note=body.note,
        csat=body.csat,
    )
    return TaskOut.of(view)
