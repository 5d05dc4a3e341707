"""The lead's board (``/board``; a manager picks the team) and its panels alone
(``/board/panels``, which htmx fetches again when a live change of the team arrives), and
the tasks' actions the board and the case page offer: take a task (assign it to me) and
complete it with an outcome of its kind (a follow-up call with the customer's CSAT). A task
action goes back where it was sent from (303, with a notice); a refusal draws that page
again with the task's form in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from complaint_runtime.errors import DomainError
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.board import service
from console.bootstrap import Dependencies, DependenciesDep
from console.cases import pages as case_pages
from console.cases import service as cases
from console.cases.domain.forms import FormState
from console.queue import service as queues
from console.signin.domain.redirects import local_path
from console.web.session import Caller, CallerDep, LeadCallerDep, notify, render

router = APIRouter(tags=["board"])
TeamQuery = Annotated[str | None, Query(max_length=60)]
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReturnTo = Annotated[str, Form(max_length=2000)]
CaseId = Annotated[str, Form(max_length=36)]


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
            user=lead.user,
            team=shown,
            limit=deps.settings.console_page_size,
            now=deps.clock(),
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


async def _task_action(
    request: Request,
    deps: Dependencies,
    me: Caller,
    *,
    form: str,
    values: dict[str, str],
    complaint_id: str,
    return_to: str,
    notice: str,
    run: Callable[[], Awaitable[None]],
) -> Response:
    """Run one task action; on a refusal draw the page it came from (the board, or the
    task's case page) again with the task's form and what went wrong."""
    try:
        await run()
    except DomainError as exc:
        refusal = case_pages.refused_form(form, values, exc)
        if refusal is None:
            raise
        state, status = refusal
        back = local_path(return_to, default="")
        if back.startswith("/board") and me.user.is_lead:
            return await _board_again(request, deps, me, back, state, status)
        return await case_pages.case_page(
            request, deps, me, complaint_id, form=state, status_code=status
        )
    notify(request, notice)
    default = f"/cases/{cases.checked_id(complaint_id)}" if complaint_id else "/"
    return RedirectResponse(local_path(return_to, default=default), status_code=303)


async def _board_again(
    request: Request, deps: Dependencies, lead: Caller, back: str, form: FormState, status: int
) -> HTMLResponse:
    teams = parse_qs(urlsplit(back).query).get("team") or [""]
    context = await _context(deps, lead, teams[0][:60] or None)
    response = render(
        request, deps, "board.html", {**context, "form": form}, status_code=status, user=lead.user
    )
    response.headers["HX-Push-Url"] = back
    return response


@router.post("/tasks/{task_id}/assign", summary="Take a task (assign it to me)")
async def take_task(
    request: Request,
    task_id: TaskId,
    deps: DependenciesDep,
    me: CallerDep,
    complaint_id: CaseId = "",
    return_to: ReturnTo = "",
) -> Response:
    async def run() -> None:
        await service.take_task(routing=deps.routing, token=me.token, user=me.user, task_id=task_id)

    return await _task_action(
        request,
        deps,
        me,
        form=f"task-{task_id}",
        values={},
        complaint_id=complaint_id,
        return_to=return_to,
        notice="notice.task_assigned",
        run=run,
    )


@router.post("/tasks/{task_id}/complete", summary="Complete a task with an outcome of its kind")
async def complete_task(
    request: Request,
    task_id: TaskId,
    deps: DependenciesDep,
    me: CallerDep,
    kind: Annotated[str, Form(max_length=40)] = "",
    outcome: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=50_000)] = "",
    csat: Annotated[str, Form(max_length=10)] = "",
    complaint_id: CaseId = "",
    return_to: ReturnTo = "",
) -> Response:
    async def run() -> None:
        await service.complete_task(
            routing=deps.routing,
            token=me.token,
            task_id=task_id,
            kind=kind,
            outcome=outcome,
            note=note,
            csat=csat,
        )

    return await _task_action(
        request,
        deps,
        me,
        form=f"task-{task_id}",
        values={"outcome": outcome, "note": note, "csat": csat},
        complaint_id=complaint_id,
        return_to=return_to,
        notice="notice.task_completed",
        run=run,
    )
