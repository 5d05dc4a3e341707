"""The case page drawn for the API's routes: the page itself, and an action run with its
refusal shown in place (API layer: it renders and answers HTTP).

An action that succeeds goes back to the page (303) with a one-time notice; one that routing
or the console's own checks refuse draws the page again with the form as the user filled
it in and what went wrong: the fields refused, the refusal of a state that does not allow
it, or, for a stale form, what changed since the page was drawn. The board's task forms
and the contact reveal's fragment show refusals the same way (:func:`refused_form`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from complaint_runtime.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.bootstrap import Dependencies
from console.cases import service
from console.cases.domain.forms import (
    MAX_DUPLICATE_REASON,
    MAX_ESCALATION_REASON,
    MAX_MESSAGE,
    MAX_NOTE,
    MAX_REASON,
    MAX_REVEAL_REASON,
    FormInvalid,
    FormState,
    problems_of,
)
from console.cases.domain.staleness import changes_since
from console.live import service as live
from console.signin.domain.redirects import local_path
from console.web.session import Caller, notify, render

LIMITS = {
    "message": MAX_MESSAGE,
    "reason": MAX_REASON,
    "note": MAX_NOTE,
    "escalation": MAX_ESCALATION_REASON,
    "reveal": MAX_REVEAL_REASON,
    "duplicate": MAX_DUPLICATE_REASON,
}
# The composer's forms: once one is sent, its sender is no longer "writing" on the case.
COMPOSER_FORMS = frozenset({"reply", "ask", "note"})


def refused_form(
    form: str, values: Mapping[str, str], exc: DomainError
) -> tuple[FormState, int] | None:
    """The form as it was sent with what went wrong, and the answer's status; None for a
    refusal that is not the form's (the page's own error then: sign-in, outage)."""
    if isinstance(exc, FormInvalid):
        return FormState(form, values, {p.field: p for p in exc.problems}), 422
    if isinstance(exc, InvalidInput):
        problems = problems_of(exc.errors)
        return FormState(form, values, problems, "form.invalid", detail=exc.detail), 422
    if isinstance(exc, Conflict):
        if exc.kind == "stale-case":
            changes = changes_since(exc.extensions)
            return FormState(form, values, message_key="form.stale", changes=changes), 409
        if exc.kind == "task-not-available":  # the page shows when its window opens
            return FormState(form, values, message_key="tasks.not_available"), 409
        return FormState(form, values, message_key="form.conflict", detail=exc.detail), 409
    if isinstance(exc, Forbidden):
        return FormState(form, values, message_key="form.forbidden", detail=exc.detail), 403
    if isinstance(exc, NotFound):
        # e.g. the original of a duplicate link; a case gone since is the page's own 404
        return FormState(form, values, message_key="form.not_found", detail=exc.detail), 404
    return None


async def case_page(
    request: Request,
    deps: Dependencies,
    me: Caller,
    complaint_id: str,
    *,
    form: FormState | None = None,
    status_code: int = 200,
    extra: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """The case page (``extra``: more of its context, e.g. the contact just revealed when
    the browser asked without htmx)."""
    data = await service.load_case(
        routing=deps.routing,
        tokens=me.tokens,
        user=me.user,
        complaint_id=complaint_id,
        now=deps.clock(),
    )
    response = render(
        request,
        deps,
        "case.html",
        {
            "nav": "case",
            # the page's own address (after a refused action the request's is the action's)
            "full_path": f"/cases/{data.case.complaint_id}",
            "data": data,
            "case": data.case,
            "form": form,
            "limits": LIMITS,
            "revealed": None,
            "presence_poll_s": deps.settings.console_presence_poll_s,
            **(extra or {}),
        },
        status_code=status_code,
        user=me.user,
    )
    # A refused form is drawn at the action's address; htmx shows the page's own instead
    # (a reload then shows the case, not the action).
    response.headers["HX-Push-Url"] = f"/cases/{data.case.complaint_id}"
    return response


async def act(
    request: Request,
    deps: Dependencies,
    me: Caller,
    complaint_id: str,
    *,
    form: str,
    values: dict[str, str],
    notice: str,
    run: Callable[[], Awaitable[None]],
    return_to: str | None = None,
) -> Response:
    """Run one action; on a refusal draw the case page again with the form in place."""
    try:
        await run()
    except DomainError as exc:
        refusal = refused_form(form, values, exc)
        if refusal is None:
            raise
        state, status = refusal
        return await case_page(request, deps, me, complaint_id, form=state, status_code=status)
    case_id = service.checked_id(complaint_id)
    if form in COMPOSER_FORMS:
        await live.clear_writing(
            database=deps.database, complaint_id=case_id, user_id=me.user.subject
        )
    notify(request, notice)
    target = local_path(return_to, default=f"/cases/{case_id}")
    return RedirectResponse(target, status_code=303)
