"""The queue pages: ``/`` my open cases (the landing page), ``/team`` the team's cases and
its waiting queue; ``/queue/list`` and ``/team/list`` are the lists alone, which htmx
fetches when a filter changes, when "more" is asked for and when a live change arrives."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from complaint_runtime.errors import InvalidInput
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from console.bootstrap import Dependencies, DependenciesDep
from console.queue import service
from console.queue.domain.filters import CHIPS, FILTER_NAMES, QueueFilters
from console.queue.domain.rows import CasePage
from console.web.session import Caller, CallerDep, render

router = APIRouter(tags=["queues"])
CursorQuery = Annotated[str | None, Query(max_length=400)]
TeamQuery = Annotated[str | None, Query(max_length=60)]


def _url(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


async def _page(
    deps: Dependencies,
    me: Caller,
    *,
    team: str | None,
    filters: QueueFilters,
    cursor: str | None,
) -> tuple[CasePage, str | None]:
    """A page of the list, or no rows and the catalog key of why (a search routing
    refused, a cursor of other filters)."""
    try:
        if team is None:
            page = await service.my_cases(
                routing=deps.routing,
                tokens=me.tokens,
                filters=filters,
                limit=deps.settings.console_page_size,
                cursor=cursor,
            )
        else:
            page = await service.team_cases(
                routing=deps.routing,
                tokens=me.tokens,
                team=team,
                filters=filters,
                limit=deps.settings.console_page_size,
                cursor=cursor,
            )
    except InvalidInput:
        return CasePage(rows=(), next_cursor=None), "queue.refused"
    return page, None


MINE = ("/", "/queue/list")
TEAM = ("/team", "/team/list")


def _list_context(
    *,
    paths: tuple[str, str],
    filters: QueueFilters,
    page: CasePage,
    problem: str | None,
    team: str | None,
) -> dict[str, Any]:
    """What the list templates use: the rows, the chips and the addresses of this list
    (the page, the list alone, the next page, each chip switched)."""
    page_path, list_path = paths
    scope = [("team", team)] if team else []
    query = [*scope, *filters.query()]
    more = [*query, ("cursor", page.next_cursor)] if page.next_cursor else None
    return {
        "page": page,
        "problem": problem,
        "filters": filters,
        "chips": CHIPS,
        "filter_names": FILTER_NAMES,
        "page_path": page_path,
        "page_url": _url(page_path, query),
        "more_page_url": _url(page_path, more) if more else None,
        "list_url": _url(list_path, query),
        "more_url": _url(list_path, more) if more else None,
        "chip_url": lambda name, value: _url(
            page_path, [*scope, *filters.toggled(name, value).query()]
        ),
        "clear_url": _url(page_path, scope),
        "team": team,
    }


@router.get("/", response_class=HTMLResponse, summary="My open cases (landing page)")
async def my_queue(
    request: Request, deps: DependenciesDep, me: CallerDep, cursor: CursorQuery = None
) -> HTMLResponse:
    filters = QueueFilters.of(request.query_params.multi_items())
    page, problem = await _page(deps, me, team=None, filters=filters, cursor=cursor)
    context = _list_context(paths=MINE, filters=filters, page=page, problem=problem, team=None)
    return render(
        request,
        deps,
        "queue.html",
        {**context, "nav": "mine"},
        user=me.user,
        status_code=422 if problem else 200,
    )


@router.get("/queue/list", response_class=HTMLResponse, summary="My open cases, the list")
async def my_queue_list(
    request: Request, deps: DependenciesDep, me: CallerDep, cursor: CursorQuery = None
) -> HTMLResponse:
    filters = QueueFilters.of(request.query_params.multi_items())
    page, problem = await _page(deps, me, team=None, filters=filters, cursor=cursor)
    context = _list_context(paths=MINE, filters=filters, page=page, problem=problem, team=None)
    template = "partials/case_rows.html" if cursor else "partials/case_list.html"
    return render(request, deps, template, context, user=me.user)


@router.get("/team", response_class=HTMLResponse, summary="The team's cases and waiting queue")
async def team_queue(
    request: Request,
    deps: DependenciesDep,
    me: CallerDep,
    team: TeamQuery = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    shown = service.team_of(me.user, team)
    filters = QueueFilters.of(request.query_params.multi_items())
    teams = (
        await service.team_codes(routing=deps.routing, tokens=me.tokens)
        if me.user.sees_all_teams
        else []
    )
    context: dict[str, Any] = {"nav": "team", "teams": teams, "waiting": ()}
    if shown is None:
        return render(request, deps, "team.html", {**context, "team": None}, user=me.user)
    page, problem = await _page(deps, me, team=shown, filters=filters, cursor=cursor)
    if me.user.is_lead:
        context["waiting"] = await service.waiting(
            routing=deps.routing, tokens=me.tokens, team=shown
        )
    context |= _list_context(paths=TEAM, filters=filters, page=page, problem=problem, team=shown)
    return render(request, deps, "team.html", context, user=me.user)


@router.get("/team/list", response_class=HTMLResponse, summary="The team's cases, the list")
async def team_queue_list(
    request: Request,
    deps: DependenciesDep,
    me: CallerDep,
    team: TeamQuery = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    shown = service.team_of(me.user, team)
    filters = QueueFilters.of(request.query_params.multi_items())
    if shown is None:
        page, problem = CasePage(rows=(), next_cursor=None), None
    else:
        page, problem = await _page(deps, me, team=shown, filters=filters, cursor=cursor)
    context = _list_context(paths=TEAM, filters=filters, page=page, problem=problem, team=shown)
    template = "partials/case_rows.html" if cursor else "partials/case_list.html"
    return render(request, deps, template, context, user=me.user)
