"""The case page drawn for the API's routes: the page itself, and an action run with its
refusal shown in place (API layer: it renders and answers HTTP).

An action that succeeds goes back to the page (303) with a one-time notice; one that routing
or the console's own checks refuse draws the page again with the form as the user filled
it in and what went wrong: the fields refused, the refusal of a state that does not allow
it, or, for a stale form, what changed since the page was drawn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from complaint_runtime.errors import Conflict, Forbidden, InvalidInput
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.bootstrap import Dependencies
from console.cases import service
from console.cases.domain.forms import (
    MAX_MESSAGE,
    MAX_NOTE,
    MAX_REASON,
    FormInvalid,
    FormState,
    problems_of,
)
from console.cases.domain.staleness import changes_since
from console.signin.domain.redirects import local_path
from console.web.session import Caller, notify, render


async def case_page(
    request: Request,
    deps: Dependencies,
    me: Caller,
    complaint_id: str,
    *,
    form: FormState | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    data = await service.load_case(
        routing=deps.routing, token=me.token, user=me.user, complaint_id=complaint_id
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
            "limits": {"message": MAX_MESSAGE, "reason": MAX_REASON, "note": MAX_NOTE},
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
    except FormInvalid as exc:
        state = FormState(form, values, {p.field: p for p in exc.problems})
        return await case_page(request, deps, me, complaint_id, form=state, status_code=422)
    except InvalidInput as exc:
        state = FormState(
            form, values, problems_of(exc.errors), message_key="form.invalid", detail=exc.detail
        )
        return await case_page(request, deps, me, complaint_id, form=state, status_code=422)
    except Conflict as exc:
        stale = exc.kind == "stale-case"
        state = FormState(
            form,
            values,
            message_key="form.stale" if stale else "form.conflict",
            detail=None if stale else exc.detail,
            changes=changes_since(exc.extensions) if stale else (),
        )
        return await case_page(request, deps, me, complaint_id, form=state, status_code=409)
    except Forbidden as exc:
        state = FormState(form, values, message_key="form.forbidden", detail=exc.detail)
        return await case_page(request, deps, me, complaint_id, form=state, status_code=403)
    notify(request, notice)
    target = local_path(return_to, default=f"/cases/{service.checked_id(complaint_id)}")
    return RedirectResponse(target, status_code=303)
