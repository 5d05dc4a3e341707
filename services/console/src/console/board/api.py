"""The lead's board (``/board``; a manager picks the team) and its panels alone
(``/board/panels``, which htmx fetches again when a live change of the team arrives)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from console.board import service
from console.bootstrap import Dependencies, DependenciesDep
from console.queue import service as queues
from console.web.session import Caller, LeadCallerDep, render

router = APIRouter(tags=["board"])
TeamQuery = Annotated[str | None, Query(max_length=60)]


async def _context(deps: Dependencies, lead: Caller, team: str | None) -> dict[str, Any]:
    shown = queues.team_of(lead.user, team)
    teams = (
        await queues.team_codes(routing=deps.routing, token=lead.token)
        if lead.user.sees_all_teams
        else []
    )
    context: dict[str, Any] = {"nav": "board", "teams": teams, "team": shown, "board": None}
    if shown is not None:
        context["board"] = await service.board(
            routing=deps.routing,
            sla_watch=deps.sla_watch,
            token=lead.token,
            team=shown,
            limit=deps.settings.console_page_size,
        )
        query = urlencode([("team", shown)])
        context["panels_url"] = f"/board/panels?{query}"
        context["return_to"] = f"/board?{query}"
    return context


@router.get("/board", response_class=HTMLResponse, summary="The lead's board")
async def board_page(
    request: Request, deps: DependenciesDep, lead: LeadCallerDep, team: TeamQuery = None
) -> HTMLResponse:
    context = await _context(deps, lead, team)
    return render(request, deps, "board.html", context, user=lead.user)


@router.get("/board/panels", response_class=HTMLResponse, summary="The board's panels")
async def board_panels(
    request: Request, deps: DependenciesDep, lead: LeadCallerDep, team: TeamQuery = None
) -> HTMLResponse:
    context = await _context(deps, lead, team)
    return render(request, deps, "partials/board_panels.html", context, user=lead.user)
