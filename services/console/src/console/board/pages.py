"""The board and "My tasks" drawn for the API's routes (API layer: it renders and answers
HTTP): what each page shows, its addresses, and the page drawn again with a task's form in
place after a refusal."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from console.board import service
from console.bootstrap import Dependencies
from console.cases.domain.forms import FormState
from console.queue import service as queues
from console.web.session import Caller, render

TASKS_PATH = "/tasks"


def tasks_url(kind: str | None = None, cursor: str | None = None, *, path: str = TASKS_PATH) -> str:
    """``/tasks`` (every kind), or one kind of it from a page of routing's (``cursor``)."""
    pairs = [(name, value) for name, value in (("kind", kind), ("cursor", cursor)) if value]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def more_url(kind: str, cursor: str) -> str:
    """The next page of one kind, the list's items alone (htmx appends them)."""
    return tasks_url(kind, cursor, path=f"{TASKS_PATH}/more")


async def board_context(
    deps: Dependencies, lead: Caller, team: str | None, *, panels: bool = False
) -> dict[str, Any]:
    """The board's context; ``panels``: only its panels (their refresh), which never show
    the team picker, so a manager's team list is not fetched for them."""
    shown = queues.team_of(lead.user, team)
    teams = (
        await queues.team_codes(routing=deps.routing, tokens=lead.tokens)
        if lead.user.sees_all_teams and not panels
        else []
    )
    context: dict[str, Any] = {"nav": "board", "teams": teams, "team": shown, "board": None}
    if shown is not None:
        context["board"] = await service.board(
            routing=deps.routing,
            sla_watch=deps.sla_watch,
            tokens=lead.tokens,
            user=lead.user,
            team=shown,
            limit=deps.settings.console_page_size,
            now=deps.clock(),
        )
        query = urlencode([("team", shown)])
        context["panels_url"] = f"/board/panels?{query}"
        context["return_to"] = f"/board?{query}"
    return context


async def tasks_context(
    deps: Dependencies, me: Caller, *, kind: str | None, cursor: str | None
) -> dict[str, Any]:
    """What "My tasks" (and a later page of one kind) draws."""
    mine = await service.my_tasks(
        routing=deps.routing,
        tokens=me.tokens,
        user=me.user,
        kind=kind,
        cursor=cursor,
        limit=deps.settings.console_page_size,
        now=deps.clock(),
    )
    return {
        "nav": "tasks",
        "mine": mine,
        # where a task's form comes back to: this very page
        "return_to": tasks_url(mine.kind, cursor if mine.kind else None),
        "tasks_url": tasks_url,
        "more_url": more_url,
    }


def _asked(back: str, name: str) -> str | None:
    values = parse_qs(urlsplit(back).query).get(name) or [""]
    return values[0][:400] or None


async def task_page_again(
    request: Request, deps: Dependencies, me: Caller, back: str, form: FormState, status: int
) -> HTMLResponse | None:
    """The page a task's form was sent from (``back``: the board, "My tasks") drawn again
    with the form and what went wrong; None for another page (the case page's own)."""
    path = urlsplit(back).path
    if path.startswith("/board") and me.user.is_lead:
        context = await board_context(deps, me, (_asked(back, "team") or "")[:60] or None)
        template = "board.html"
    elif path == TASKS_PATH:
        kind, cursor = _asked(back, "kind"), _asked(back, "cursor")
        context = await tasks_context(deps, me, kind=kind, cursor=cursor)
        template = "tasks.html"
    else:
        return None
    response = render(
        request, deps, template, {**context, "form": form}, status_code=status, user=me.user
    )
    response.headers["HX-Push-Url"] = back
    return response
