"""The lead's board (``/board``; a manager picks the team) and its panels alone
(``/board/panels``, which htmx fetches again when a live change of the team arrives); "My
tasks" (``/tasks``: the signed-in agent's, lead's or manager's own open tasks, a page of
each kind; ``/tasks?kind=…&cursor=…`` a later page of one kind, ``/tasks/more`` its items
alone, which htmx appends) and the navigation's count of them (``/tasks/count``, which the
header fetches after the page is drawn, so no page waits for it). The tasks' actions are
:mod:`console.board.actions_api`."""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.errors import Forbidden, InvalidInput
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from console.board import pages, service
from console.board.domain.tasks import task_kind, works_tasks
from console.bootstrap import DependenciesDep
from console.web.session import Caller, CallerDep, LeadCallerDep, render

router = APIRouter(tags=["board"])
TeamQuery = Annotated[str | None, Query(max_length=60)]
KindQuery = Annotated[str | None, Query(max_length=40)]
CursorQuery = Annotated[str | None, Query(max_length=400)]


async def task_caller(signed_in: CallerDep) -> Caller:
    if not works_tasks(signed_in.user.roles):
        raise Forbidden("Tasks are for agents, leads and managers.", kind="no-tasks")
    return signed_in


TaskCallerDep = Annotated[Caller, Depends(task_caller)]


@router.get("/board", response_class=HTMLResponse, summary="The lead's board")
async def board_page(
    request: Request, deps: DependenciesDep, lead: LeadCallerDep, team: TeamQuery = None
) -> HTMLResponse:
    context = await pages.board_context(deps, lead, team)
    return render(request, deps, "board.html", context, user=lead.user)


@router.get("/board/panels", response_class=HTMLResponse, summary="The board's panels")
async def board_panels(
    request: Request, deps: DependenciesDep, lead: LeadCallerDep, team: TeamQuery = None
) -> HTMLResponse:
    context = await pages.board_context(deps, lead, team, panels=True)
    return render(request, deps, "partials/board_panels.html", context, user=lead.user)


@router.get("/tasks", response_class=HTMLResponse, summary="My open tasks, by kind")
async def my_tasks(
    request: Request,
    deps: DependenciesDep,
    me: TaskCallerDep,
    kind: KindQuery = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    context = await pages.tasks_context(deps, me, kind=kind, cursor=cursor)
    return render(request, deps, "tasks.html", context, user=me.user)


@router.get("/tasks/more", response_class=HTMLResponse, summary="A next page of one kind")
async def my_tasks_more(
    request: Request,
    deps: DependenciesDep,
    me: TaskCallerDep,
    kind: KindQuery = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    if task_kind(kind) is None or not cursor:
        raise InvalidInput("A next page names its kind and cursor.")
    context = await pages.tasks_context(deps, me, kind=kind, cursor=cursor)
    return render(request, deps, "partials/my_task_more.html", context, user=me.user)


@router.get("/tasks/count", response_class=HTMLResponse, summary="How many tasks I have")
async def my_tasks_count(request: Request, deps: DependenciesDep, me: TaskCallerDep) -> Response:
    """The navigation's count (204, nothing to show: none workable or overdue, or routing
    could not say)."""
    count = await service.count_my_tasks(routing=deps.routing, tokens=me.tokens, now=deps.clock())
    if count is None:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return render(request, deps, "partials/task_count.html", {"count": count}, user=me.user)
