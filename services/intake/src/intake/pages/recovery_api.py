"""The lost-link pages (public; the customer proves what only they should know).

- ``GET /recover``: reference and contact (the e-mail address or mobile number the
  complaint was filed with). The browser gets a recovery cookie (a random flow id, scoped
  to ``/recover``) that binds its code requests and its forms' CSRF tokens.
- ``POST /recover``: a code is made and e-mailed when both match a complaint with an
  e-mail address, a decoy otherwise; either way a 303 to the code page, which says "if they
  match, we sent a code": the answer never tells whether a complaint exists.
- ``GET|POST /recover/code``: the code. Right: the complaint gets a new link (the old one
  stops working), its cookie is set and the customer lands on ``/c/{id}`` with the link
  shown once. Wrong: the attempts left. Spent or expired: ask again.

Rate limited per reference with the contact's keyed hash and per client (asking), and
per flow and client (entering), on top of the code's own 5 attempts
(:mod:`intake.recovery.domain.codes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from complaint_customer_web.throttle import Verdict
from fastapi import APIRouter, Request
from fastapi.responses import Response

from intake.bootstrap import Dependencies, DependenciesDep
from intake.pages import web
from intake.recovery import service as recovery
from intake.recovery.domain.codes import normalise_code
from intake.recovery.domain.requests import check_form, flow_hash, recovery_rate_key

router = APIRouter(include_in_schema=False, tags=["customer pages"])
START: Final = web.RECOVER_PREFIX
CODE: Final = f"{web.RECOVER_PREFIX}/code"
_SHOWN: Final = 320  # a refused field is shown again at most this long


@router.get(START)
async def recover_page(request: Request, deps: DependenciesDep) -> Response:
    flow = web.recovery_flow(request) or web.new_recovery_flow()
    verdict = await web.throttle(request, deps, "view", flow_hash(flow)[:32])
    return _request_page(request, deps, flow, verdict, {}, {})


@router.post(START)
async def ask_for_code(request: Request, deps: DependenciesDep) -> Response:
    flow = _flow(request)
    fields = await web.form_of(request, deps, web.recovery_binding(flow))
    reference, contact = fields.get("reference", ""), fields.get("contact", "")
    rate_key = recovery_rate_key(deps.secrets.ref_key, reference=reference, contact=contact)
    verdict = await web.throttle(request, deps, "recover", rate_key)
    form = check_form(deps.secrets.ref_key, reference=reference, contact=contact)
    if form.reference is None or form.contact is None:
        values = {"reference": reference[:_SHOWN], "contact": contact[:_SHOWN]}
        return _request_page(request, deps, flow, verdict, form.errors, values, 422)
    await recovery.request_code(
        database=deps.database,
        secrets_=deps.secrets,
        flow=flow,
        reference=form.reference,
        contact=form.contact,
    )
    return web.see_other(CODE, verdict)


@router.get(CODE)
async def code_page(request: Request, deps: DependenciesDep) -> Response:
    flow = web.recovery_flow(request)
    if flow is None:  # no flow (another browser, an old bookmark): start at the beginning
        return web.see_other(START)
    verdict = await web.throttle(request, deps, "view", flow_hash(flow)[:32])
    return _code_page(request, deps, flow, verdict)


@router.post(CODE)
async def enter_code(request: Request, deps: DependenciesDep) -> Response:
    flow = _flow(request)
    fields = await web.form_of(request, deps, web.recovery_binding(flow))
    verdict = await web.throttle(request, deps, "verify", flow_hash(flow)[:32])
    code = normalise_code(fields.get("code"))
    if code is None:
        return _code_page(request, deps, flow, verdict, error="code.invalid", status=422)
    outcome = await recovery.verify_code(
        database=deps.database, secrets_=deps.secrets, flow=flow, code=code
    )
    if isinstance(outcome, recovery.Refused):
        status = 422 if outcome.verdict == "wrong" else 410
        return _code_page(
            request,
            deps,
            flow,
            verdict,
            error=f"code.{outcome.verdict}",
            count=outcome.attempts_left,
            status=status,
        )
    language = web.language_of(request)
    location = f"{web.page_path(outcome.complaint_id)}?done=recovered&lang={language}"
    response = web.see_other(location, verdict)
    web.set_link_cookie(response, deps, outcome.complaint_id, outcome.token)
    web.set_recovery_cookie(response, deps, None)  # the flow is done
    return response


def _flow(request: Request) -> str:
    """The flow a form belongs to; a form posted without it did not come from our page."""
    flow = web.recovery_flow(request)
    if flow is None:
        raise web.CsrfRefused("This form did not come from your page, or the page is too old.")
    return flow


def _request_page(
    request: Request,
    deps: Dependencies,
    flow: str,
    verdict: Verdict,
    errors: Mapping[str, str],
    values: Mapping[str, str],
    status: int = 200,
) -> Response:
    context = {
        "page_path": START,
        "csrf": web.csrf_for(deps, web.recovery_binding(flow)),
        "errors": dict(errors),
        "values": {"reference": values.get("reference", ""), "contact": values.get("contact", "")},
    }
    return _render(request, deps, "recover.html", context, flow, verdict, status)


def _code_page(
    request: Request,
    deps: Dependencies,
    flow: str,
    verdict: Verdict,
    *,
    error: str | None = None,
    count: int = 0,
    status: int = 200,
) -> Response:
    tr = web.translator(deps, web.language_of(request))
    context = {
        "page_path": CODE,
        "start_path": START,
        "csrf": web.csrf_for(deps, web.recovery_binding(flow)),
        "error": tr.t(error, count=count) if error else None,
        "may_enter": error in (None, "code.invalid", "code.wrong"),
    }
    return _render(request, deps, "recover_code.html", context, flow, verdict, status)


def _render(
    request: Request,
    deps: Dependencies,
    template: str,
    context: Mapping[str, object],
    flow: str,
    verdict: Verdict,
    status: int,
) -> Response:
    language = web.language_of(request)
    response = web.render(
        request,
        deps,
        template,
        context,
        language=language,
        status_code=status,
        headers=verdict.headers(),
    )
    web.set_recovery_cookie(response, deps, flow)
    web.remember_language(request, response, deps)
    return response
