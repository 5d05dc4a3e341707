"""The case page's tools beside its state machine: a lead's escalation request, linking
a copy to its original by hand (and undoing it), and revealing the customer's contact.
Each posts to the console, which calls routing with the user's token (and, for the ones
that change the case, the page's case version as ``If-Match``); use cases are
:mod:`console.cases.tools`, what the user sees of the outcome :mod:`console.cases.pages`.

The contact reveal answers an htmx fragment of the page only (the whole page without
htmx), ``Cache-Control: no-store``: the contact is in no database, log or cache of the
console."""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.errors import DomainError
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from console.bootstrap import DependenciesDep
from console.cases import pages, service, tools
from console.cases.api import Text, Version, version_of
from console.web.session import CallerDep, render, wants_fragment

router = APIRouter(prefix="/cases", tags=["cases"])
Level = Annotated[str, Form(max_length=2)]
Reference = Annotated[str, Form(max_length=100)]
REVEAL_FORM = "reveal"


@router.post("/{complaint_id}/escalate", summary="Ask for a higher escalation level (leads)")
async def escalate(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    level: Level = "",
    reason: Text = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await tools.escalate(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            level=level,
            reason=reason,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="escalate",
        values={"level": level, "reason": reason},
        notice="notice.escalation_requested",
        run=run,
    )


@router.post("/{complaint_id}/duplicate-of", summary="Link the case as a copy of another")
async def link_duplicate(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    original: Reference = "",
    reason: Text = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await tools.link_duplicate(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            original=original,
            reason=reason,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="duplicate",
        values={"original": original, "reason": reason},
        notice="notice.duplicate_linked",
        run=run,
    )


@router.post("/{complaint_id}/duplicate-of/unlink", summary="Undo the case's duplicate link")
async def unlink_duplicate(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    reason: Text = "",
    version: Version = "",
) -> Response:
    async def run() -> None:
        await tools.unlink_duplicate(
            routing=deps.routing,
            tokens=me.tokens,
            complaint_id=complaint_id,
            version=version_of(version),
            reason=reason,
        )

    return await pages.act(
        request,
        deps,
        me,
        complaint_id,
        form="unlink",
        values={"reason": reason},
        notice="notice.duplicate_unlinked",
        run=run,
    )


@router.post(
    "/{complaint_id}/contact/reveal",
    response_class=HTMLResponse,
    summary="Show the customer's contact, with a reason (leads)",
)
async def reveal_contact(
    request: Request,
    complaint_id: str,
    deps: DependenciesDep,
    me: CallerDep,
    reason: Text = "",
) -> Response:
    values = {"reason": reason}
    try:
        contact = await tools.reveal_contact(
            routing=deps.routing, tokens=me.tokens, complaint_id=complaint_id, reason=reason
        )
    except DomainError as exc:
        refusal = pages.refused_form(REVEAL_FORM, values, exc)
        if refusal is None:
            raise
        state, status = refusal
        if not wants_fragment(request):
            return await pages.case_page(
                request, deps, me, complaint_id, form=state, status_code=status
            )
        context = {"id": service.checked_id(complaint_id), "limits": pages.LIMITS, "form": state}
        response = render(
            request,
            deps,
            "partials/contact_reveal.html",
            {"revealed": None, **context},
            status_code=status,
            user=me.user,
        )
    else:
        if not wants_fragment(request):
            response = await pages.case_page(
                request, deps, me, complaint_id, extra={"revealed": contact}
            )
        else:
            context = {
                "id": service.checked_id(complaint_id),
                "limits": pages.LIMITS,
                "revealed": contact,
            }
            response = render(request, deps, "partials/contact_reveal.html", context, user=me.user)
    response.headers["Cache-Control"] = "no-store"
    return response
