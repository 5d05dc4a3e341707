"""The tasks' actions the board, "My tasks" and the case page offer: take a task (assign it
to me), give it to an agent of its team (a lead of that team or a manager, from the
board) and complete it with an outcome of its kind (a follow-up call with the customer's
CSAT). A task action goes back where it was sent from (303, with a notice); a refusal
draws that page again with the task's form in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from complaint_runtime.errors import DomainError
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from console.board import pages, service
from console.bootstrap import Dependencies, DependenciesDep
from console.cases import pages as case_pages
from console.cases import service as cases
from console.signin.domain.redirects import local_path
from console.web.session import Caller, CallerDep, LeadCallerDep, notify

router = APIRouter(tags=["tasks"])
TaskId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReturnTo = Annotated[str, Form(max_length=2000)]
CaseId = Annotated[str, Form(max_length=36)]


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
    """Run one task action; on a refusal draw the page it came from (the board, "My
    tasks", or the task's case page) again with the task's form and what went wrong."""
    try:
        await run()
    except DomainError as exc:
        refusal = case_pages.refused_form(form, values, exc)
        if refusal is None:
            raise
        state, status = refusal
        back = local_path(return_to, default="")
        again = await pages.task_page_again(request, deps, me, back, state, status)
        if again is not None:
            return again
        return await case_pages.case_page(
            request, deps, me, complaint_id, form=state, status_code=status
        )
    notify(request, notice)
    default = f"/cases/{cases.checked_id(complaint_id)}" if complaint_id else "/"
    return RedirectResponse(local_path(return_to, default=default), status_code=303)


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
        await service.take_task(
            routing=deps.routing, tokens=me.tokens, user=me.user, task_id=task_id
        )

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


@router.post("/tasks/{task_id}/assign-agent", summary="Give a task to an agent of its team")
async def assign_task(
    request: Request,
    task_id: TaskId,
    deps: DependenciesDep,
    lead: LeadCallerDep,
    assignee: Annotated[str, Form(max_length=100)] = "",
    complaint_id: CaseId = "",
    return_to: ReturnTo = "",
) -> Response:
    async def run() -> None:
        await service.assign_task(
            routing=deps.routing, tokens=lead.tokens, task_id=task_id, assignee=assignee
        )

    return await _task_action(
        request,
        deps,
        lead,
        form=f"task-{task_id}",
        values={"assignee": assignee},
        complaint_id=complaint_id,
        return_to=return_to,
        notice="notice.task_given",
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
            tokens=me.tokens,
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
