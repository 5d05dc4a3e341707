"""The case page and its actions. Each action posts to the console, which calls routing
with the user's token and the case version the page was drawn from (``If-Match``); what
the user sees of the outcome is :mod:`console.cases.pages`."""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from console.bootstrap import DependenciesDep
from console.cases import pages, service
from console.web.session import CallerDep, render

router = APIRouter(prefix="/cases", tags=["cases"])

_VERSION: Final = re.compile(r"^\d{1,9}$")
Text = Annotated[str, Form(max_length=50_000)]
Short = Annotated[str, Form(max_length=200)]
Version = Annotated[str, Form(max_length=20)]


def version_of(value: str) -> int | None:
    """The case version a form carries (sent as ``If-Match``); anything else: none, so
    routing applies the command without the check rather than refusing a garbled one."""
    return int(value) if _VERSION.fullmatch(value.strip()) else None


@router.get("/{complaint_id}", response_class=HTMLResponse, summary="The case page")
async def case_page(
    request: Request, complaint_id: str, deps: DependenciesDep, me: CallerDep
) -> HTMLResponse:
    return await pages.case_page(request, deps, me, complaint_id)


@router.get(
    "/{complaint_id}/freshness",
    response_class=HTMLResponse,
    summary="Whether the case changed since the page's version (a notice, or nothing)",
)
async def freshness(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    version: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    data = await service.load_case(
        routing=deps.routing,
        tokens=me.tokens,
        user=me.user,
        complaint_id=complaint_id,
        now=deps.clock(),
    )
    changed = data.case.version is None or data.case.version != version_of(version)
    return render(
        request,
        deps,
        "partials/freshness.html",
        {"case": data.case, "changed": changed},
        user=me.user,
    )


@router.post("/{complaint_id}/first-response", summary="Send the first response")
async def first_response(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    message: Text = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await service.answer_customer(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            message=message,
            first=True,
            in_reply_to=None,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="reply",
        values={"message": message},
        notice="notice.first_response_sent",
        run=run,
    )


@router.post("/{complaint_id}/replies", summary="Reply to the customer")
async def reply(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    message: Text = "",
    in_reply_to: Short = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await service.answer_customer(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            message=message,
            first=False,
            in_reply_to=in_reply_to or None,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="reply",
        values={"message": message},
        notice="notice.reply_sent",
        run=run,
    )


@router.post("/{complaint_id}/questions", summary="Ask the customer (wait for their answer)")
async def ask_customer(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    reason: Text = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await service.ask_customer(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            question=reason,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="ask",
        values={"reason": reason},
        notice="notice.question_sent",
        run=run,
    )


@router.post("/{complaint_id}/resume", summary="Resume work without a customer message")
async def resume(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    version: Version = "",
) -> Response:
    async def run() -> None:
        await service.resume(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="resume",
        values={},
        notice="notice.resumed",
        run=run,
    )


@router.post("/{complaint_id}/notes", summary="Add an internal note")
async def add_note(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    text: Text = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await service.add_note(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            text=text,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="note",
        values={"text": text},
        notice="notice.note_added",
        run=run,
    )


@router.post("/{complaint_id}/resolve", summary="Resolve the case")
async def resolve(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    solution_summary: Text = "",
    solution_type: Short = "",
    root_cause: Text = "",
    preventive_measure: Text = "",
    version: Version = "",
) -> Response:
    fields = {
        "solution_summary": solution_summary,
        "solution_type": solution_type,
        "root_cause": root_cause,
        "preventive_measure": preventive_measure,
    }

    async def run() -> None:
        await service.resolve(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            fields=fields,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="resolve",
        values=fields,
        notice="notice.resolved",
        run=run,
    )


@router.post("/{complaint_id}/transfer", summary="Transfer to another team or agent")
async def transfer(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    team: Short = "",
    assignee: Short = "",
    reason: Text = "",
    version: Version = "",
    return_to: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    async def run() -> None:
        await service.transfer(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            team=team,
            assignee=assignee,
            reason=reason,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="transfer",
        values={"team": team, "assignee": assignee, "reason": reason},
        notice="notice.transferred",
        run=run,
        return_to=return_to or None,
    )


@router.post("/{complaint_id}/recategorize", summary="Correct category or priority (leads)")
async def recategorize(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    category: Short = "",
    subcategory: Short = "",
    priority: Short = "",
    reason: Text = "",
    version: Version = "",
) -> Response:
    fields = {
        "category": category,
        "subcategory": subcategory,
        "priority": priority,
        "reason": reason,
    }

    async def run() -> None:
        await service.recategorize(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            fields=fields,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="recategorize",
        values=fields,
        notice="notice.recategorized",
        run=run,
    )
