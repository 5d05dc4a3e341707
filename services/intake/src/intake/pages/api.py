"""The customer's tracking page (public: the link's secret is the only credential).

- ``GET /t/{token}``: the link in every message. A valid token is put in an HttpOnly
  cookie scoped to ``/c/{complaint_id}`` and answered with a 303 there, so the secret
  leaves the address bar, the history and any Referer; ``Accept: application/json`` gets
  the complaint's JSON view instead. An unknown or rotated token: a friendly 404 page.
- ``GET /c/{complaint_id}``: the page (status, next step, promised times, timeline, the
  message form, other actions); ``?lang=`` switches the language, ``?done=`` names the
  action just done (Post/Redirect/Get).
- ``POST /c/{id}/messages``, ``GET|POST /c/{id}/withdraw`` (a confirmation page first),
  ``POST /c/{id}/link`` (a new link, the old one stops working): each form carries the
  page's CSRF token and a submission key (a double submit does nothing twice).

Every route is rate limited per link and per client (:mod:`intake.pages.domain.throttling`)
and left out of the OpenAPI document (pages, not an API).
"""

from __future__ import annotations

from typing import Annotated

from complaint_customer_web.throttle import Verdict
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from intake.bootstrap import Dependencies, DependenciesDep
from intake.complaints.domain.errors import (
    ComplaintClosed,
    ComplaintNotFound,
    ComplaintWithdrawn,
    IdempotencyKeyReused,
)
from intake.complaints.messages import FollowUpOpened
from intake.pages import service, web
from intake.pages.domain.forms import check_message, check_reason, is_submission_key
from intake.pages.domain.throttling import link_of_token
from intake.pages.errors import wants_json
from intake.pages.views import FormState, page_context
from intake.projection.schemas import complaint_out

router = APIRouter(include_in_schema=False, tags=["customer pages"])
Done = Annotated[str | None, Query(max_length=20)]


@router.get("/t/{token}")
async def open_link(token: str, request: Request, deps: DependenciesDep) -> Response:
    verdict = await web.throttle(request, deps, "open", link_of_token(token))
    complaint_id = await service.open_link(database=deps.database, token=token)
    if complaint_id is None:
        raise ComplaintNotFound("This link does not open a complaint.")
    if wants_json(request):
        view = await service.json_view(database=deps.database, token=token, id_=complaint_id)
        body = complaint_out(view).model_dump(mode="json")
        return JSONResponse(body, headers={**web.NO_STORE, **verdict.headers()})
    response = web.see_other(web.page_path(complaint_id), verdict)
    web.set_link_cookie(response, deps, complaint_id, token)
    return response


@router.get("/c/{complaint_id}")
async def tracking_page(
    complaint_id: str, request: Request, deps: DependenciesDep, done: Done = None
) -> Response:
    token = web.link_token(request)
    verdict = await web.throttle(request, deps, "view", complaint_id)
    return await _page(request, deps, token, complaint_id, verdict, done=done)


@router.post("/c/{complaint_id}/messages")
async def post_message(complaint_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    fields = await web.form_of(request, deps, token)
    verdict = await web.throttle(request, deps, "message", complaint_id)
    key = fields.get("submission")
    if not is_submission_key(key):
        raise web.CsrfRefused("The form is incomplete.")
    raw = fields.get("message", "")
    checked = check_message(raw)
    if checked.text is None:
        form = FormState(_shown(raw), checked.error)
        return await _page(request, deps, token, complaint_id, verdict, form=form, status=422)
    try:
        outcome = await service.send_message(
            database=deps.database,
            secrets_=deps.secrets,
            references=deps.references,
            token=token,
            complaint_id=complaint_id,
            text=checked.text,
            submission_key=str(key),
            public_base_url=deps.settings.public_base_url,
            reopen_window=deps.reopen_window,
        )
    except (ComplaintWithdrawn, IdempotencyKeyReused) as refused:
        error = (
            "form.message.withdrawn" if isinstance(refused, ComplaintWithdrawn) else "form.resent"
        )
        form = FormState(checked.text, error)
        status = 409 if isinstance(refused, ComplaintWithdrawn) else 422
        return await _page(request, deps, token, complaint_id, verdict, form=form, status=status)
    if isinstance(outcome, FollowUpOpened):
        new_id, new_token = outcome.accepted["id"], outcome.accepted["tracking_token"]
        response = web.see_other(f"{web.page_path(new_id)}?done=follow_up", verdict)
        web.set_link_cookie(response, deps, new_id, new_token)
        return response
    done = "reopened" if outcome.reopens else "message"
    return web.see_other(f"{web.page_path(complaint_id)}?done={done}#conversation", verdict)


@router.get("/c/{complaint_id}/withdraw")
async def withdraw_page(complaint_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    verdict = await web.throttle(request, deps, "view", complaint_id)
    return await _withdraw_page(request, deps, token, complaint_id, verdict, FormState())


@router.post("/c/{complaint_id}/withdraw")
async def withdraw(complaint_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    fields = await web.form_of(request, deps, token)
    verdict = await web.throttle(request, deps, "withdraw", complaint_id)
    raw = fields.get("reason", "")
    checked = check_reason(raw)
    if checked.error is not None:
        form = FormState(_shown(raw), checked.error)
        return await _withdraw_page(request, deps, token, complaint_id, verdict, form, 422)
    done = "withdrawn"
    try:
        await service.withdraw(
            database=deps.database, token=token, complaint_id=complaint_id, reason=checked.text
        )
    except ComplaintWithdrawn:
        pass  # withdrawn already (a double submit): the customer's wish stands, once
    except ComplaintClosed:
        done = "closed_already"
    return web.see_other(f"{web.page_path(complaint_id)}?done={done}", verdict)


@router.post("/c/{complaint_id}/link")
async def new_link(complaint_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    fields = await web.form_of(request, deps, token)
    verdict = await web.throttle(request, deps, "rotate", complaint_id)
    key = fields.get("submission")
    if not is_submission_key(key):
        raise web.CsrfRefused("The form is incomplete.")
    link = await service.rotate_link(
        database=deps.database,
        secrets_=deps.secrets,
        token=token,
        complaint_id=complaint_id,
        submission_key=str(key),
        public_base_url=deps.settings.public_base_url,
    )
    response = web.see_other(f"{web.page_path(complaint_id)}?done=new_link", verdict)
    web.set_link_cookie(response, deps, complaint_id, link.token)
    return response


async def _page(
    request: Request,
    deps: Dependencies,
    token: str,
    complaint_id: str,
    verdict: Verdict,
    *,
    done: str | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    page = await service.tracking_page(
        database=deps.database,
        token=token,
        complaint_id=complaint_id,
        reopen_window=deps.reopen_window,
    )
    language = web.language_of(request, page.language)
    context = page_context(
        tr=web.translator(deps, language),
        page=page,
        fallback_zone=deps.settings.organisation_timezone,
        done=done,
        link_token=token,
        public_base_url=deps.settings.public_base_url,
        csrf=web.csrf_for(deps, token),
        submission=web.new_submission_key(),
        form=form,
    )
    response = web.render(
        request,
        deps,
        "tracking.html",
        context,
        language=language,
        status_code=status,
        headers=verdict.headers(),
    )
    web.remember_language(request, response, deps)
    return response


async def _withdraw_page(
    request: Request,
    deps: Dependencies,
    token: str,
    complaint_id: str,
    verdict: Verdict,
    form: FormState,
    status: int = 200,
) -> Response:
    page = await service.tracking_page(
        database=deps.database,
        token=token,
        complaint_id=complaint_id,
        reopen_window=deps.reopen_window,
    )
    if not page.may_withdraw:
        return web.see_other(web.page_path(complaint_id), verdict)
    language = web.language_of(request, page.language)
    tr = web.translator(deps, language)
    context = {
        "page": page,
        "page_path": web.page_path(complaint_id),
        "csrf": web.csrf_for(deps, token),
        "form": form,
        "form_error": tr.t(form.error) if form.error else None,
    }
    return web.render(
        request,
        deps,
        "withdraw.html",
        context,
        language=language,
        status_code=status,
        headers=verdict.headers(),
    )


def _shown(raw: str) -> str:
    """A refused text as the form shows it again: without control characters (a browser
    would turn a NUL into a replacement character anyway), at most a little over the
    limit, so the customer can shorten it."""
    kept = "".join(c for c in raw if c in "\t\n\r" or (c >= " " and c != "\x7f"))
    return kept[:20_000]
