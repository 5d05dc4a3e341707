"""The survey page (public: the link's secret is the only credential).

- ``GET /s/{token}``: the link in the survey message. A genuine token goes into an
  HttpOnly cookie scoped to ``/survey/{request_id}`` and the answer is a 303 there, so the
  secret leaves the address bar, the history and any Referer; ``Accept:
  application/json`` gets the survey's JSON instead (as ``GET /v1/surveys/{token}``).
- ``GET /survey/{request_id}``: the form, or what the answer did (``?done=answered``: just
  now; Post/Redirect/Get); ``?lang=`` switches the language.
- ``POST /survey/{request_id}``: the answer, with the page's CSRF token; a refused form is
  the page again (422) with every problem named and nothing stored; a repeat changes
  nothing and shows the same confirmation.

Used, expired, closed and unknown links are friendly pages (:mod:`feedback.pages.errors`);
every route is rate limited per link and per client and left out of the OpenAPI document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from complaint_customer_web.clients import wants_json
from complaint_customer_web.throttle import Verdict
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from feedback.api.surveys import get_survey
from feedback.bootstrap import Dependencies, DependenciesDep
from feedback.domain.links import AUDIENCE, LinkClaims
from feedback.domain.refusals import SurveyExpired, SurveyNotFound
from feedback.pages import web
from feedback.pages.domain.forms import FormState
from feedback.pages.domain.throttling import link_of_token
from feedback.surveys import service
from feedback.surveys.domain.forms import read_survey_form

router = APIRouter(include_in_schema=False, tags=["customer pages"])
PAGE: Final = "/survey/"
Done = Annotated[str | None, Query(max_length=20)]


def _claims(request: Request, deps: Dependencies, token: str, rid: str | None) -> LinkClaims:
    return web.link_claims(
        request,
        deps,
        token,
        audience=AUDIENCE,
        not_found=SurveyNotFound,
        expired=SurveyExpired,
        request_id=rid,
    )


@router.get("/s/{token}")
async def open_link(token: str, request: Request, deps: DependenciesDep) -> Response:
    verdict = await web.throttle(request, deps, "open", link_of_token(token))
    if wants_json(request.headers.get("accept")):
        survey = await get_survey(token, deps)
        return JSONResponse(
            survey.model_dump(mode="json"), headers={**web.NO_STORE, **verdict.headers()}
        )
    claims = _claims(request, deps, token, None)
    path = f"{PAGE}{claims.request_id}"
    response = web.see_other(path, verdict)
    web.set_link_cookie(response, deps, path=path, claims=claims, token=token)
    return response


@router.get("/survey/{request_id}")
async def survey_page(
    request_id: str, request: Request, deps: DependenciesDep, done: Done = None
) -> Response:
    token = web.link_token(request)
    verdict = await web.throttle(request, deps, "view", request_id)
    claims = _claims(request, deps, token, request_id)
    return await _page(request, deps, token, claims, verdict, just_answered=done == "answered")


@router.post("/survey/{request_id}")
async def answer(request_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    claims = _claims(request, deps, token, request_id)
    fields = await web.form_of(request, deps, token)
    verdict = await web.throttle(request, deps, "answer", request_id)
    read = read_survey_form(fields)
    if isinstance(read, FormState):
        return await _page(request, deps, token, claims, verdict, form=read, status=422)
    await service.answer_from_page(
        database=deps.database,
        claims=claims,
        answer=read,
        loop_settings=deps.loop_settings,
        now=datetime.now(UTC),
    )
    return web.see_other(f"{PAGE}{request_id}?done=answered", verdict)


async def _page(
    request: Request,
    deps: Dependencies,
    token: str,
    claims: LinkClaims,
    verdict: Verdict,
    *,
    just_answered: bool = False,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    page = await service.survey_page(database=deps.database, claims=claims, now=datetime.now(UTC))
    language = web.language_of(request, page.language)
    path = f"{PAGE}{claims.request_id}"
    response = web.render(
        request,
        deps,
        "survey.html",
        {
            "page": page,
            "page_path": path,
            "form": form or FormState(),
            "just_answered": just_answered,
            "when": web.clock(deps, language),
            "zone": web.zone_text(deps),
            "csrf": web.csrf_for(deps, token),
        },
        language=language,
        page_path=path,
        status_code=status,
        headers=verdict.headers(),
    )
    web.remember_language(request, response, deps)
    return response
