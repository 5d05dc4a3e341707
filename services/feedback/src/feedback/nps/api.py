"""The NPS page (public: the link's secret is the only credential), the survey page's twin.

- ``GET /n/{token}``: the link in the invitation. A genuine token goes into an HttpOnly
  cookie scoped to ``/nps/{request_id}`` and the answer is a 303 there (the secret leaves
  the address bar); ``Accept: application/json`` gets the request's JSON. The invitation's
  "don't ask me again" link is the same link with ``#opt-out``, which the browser keeps
  across the redirect.
- ``GET /nps/{request_id}``: 0–10 as eleven large tap targets and a comment, or the
  thanks (``?done=answered``); "don't ask me again" in both.
- ``POST /nps/{request_id}``: the score, once (a repeat changes nothing); a refused form
  is the page again (422), nothing stored. ``POST /nps/{request_id}/opt-out``: never asked
  again (``?done=opted_out``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from complaint_customer_web.clients import wants_json
from complaint_customer_web.throttle import Verdict
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from feedback.bootstrap import Dependencies, DependenciesDep
from feedback.domain.links import NPS_AUDIENCE, LinkClaims
from feedback.nps import service
from feedback.nps.domain.answers import NpsExpired, NpsNotFound, read_nps_form
from feedback.pages import web
from feedback.pages.domain.forms import FormState
from feedback.pages.domain.throttling import link_of_token

router = APIRouter(include_in_schema=False, tags=["customer pages"])
PAGE: Final = "/nps/"
Done = Annotated[str | None, Query(max_length=20)]


class NpsOut(BaseModel):
    """The NPS request as a front end reads it through the link."""

    request_id: str
    period: str
    language: Literal["zh-CN", "en"]
    question: Literal["score"] = "score"
    min: int = 0
    max: int = 10
    expires_at: datetime
    answered: bool
    answered_at: datetime | None = None
    score: int | None = Field(None, ge=0, le=10)
    opted_out: bool


def _claims(request: Request, deps: Dependencies, token: str, rid: str | None) -> LinkClaims:
    return web.link_claims(
        request,
        deps,
        token,
        audience=NPS_AUDIENCE,
        not_found=NpsNotFound,
        expired=NpsExpired,
        request_id=rid,
    )


@router.get("/n/{token}")
async def open_link(token: str, request: Request, deps: DependenciesDep) -> Response:
    verdict = await web.throttle(request, deps, "open", link_of_token(token))
    claims = _claims(request, deps, token, None)
    if wants_json(request.headers.get("accept")):
        page = await service.nps_page(database=deps.database, claims=claims, now=datetime.now(UTC))
        body = NpsOut(
            request_id=page.request_id,
            period=page.period,
            language=page.language,
            expires_at=page.expires_at,
            answered=page.state == "answered",
            answered_at=page.answered_at,
            score=page.score,
            opted_out=page.opted_out,
        )
        headers = {**web.NO_STORE, **verdict.headers()}
        return JSONResponse(body.model_dump(mode="json"), headers=headers)
    path = f"{PAGE}{claims.request_id}"
    response = web.see_other(path, verdict)
    web.set_link_cookie(response, deps, path=path, claims=claims, token=token)
    return response


@router.get("/nps/{request_id}")
async def nps_page(
    request_id: str, request: Request, deps: DependenciesDep, done: Done = None
) -> Response:
    token = web.link_token(request)
    verdict = await web.throttle(request, deps, "view", request_id)
    claims = _claims(request, deps, token, request_id)
    return await _page(request, deps, token, claims, verdict, done=done)


@router.post("/nps/{request_id}")
async def answer(request_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    claims = _claims(request, deps, token, request_id)
    fields = await web.form_of(request, deps, token)
    verdict = await web.throttle(request, deps, "answer", request_id)
    read = read_nps_form(fields)
    if isinstance(read, FormState):
        return await _page(request, deps, token, claims, verdict, form=read, status=422)
    await service.answer_from_page(
        database=deps.database,
        claims=claims,
        score=read.score,
        comment=read.comment,
        now=datetime.now(UTC),
    )
    return web.see_other(f"{PAGE}{request_id}?done=answered", verdict)


@router.post("/nps/{request_id}/opt-out")
async def opt_out(request_id: str, request: Request, deps: DependenciesDep) -> Response:
    token = web.link_token(request)
    claims = _claims(request, deps, token, request_id)
    await web.form_of(request, deps, token)
    verdict = await web.throttle(request, deps, "opt_out", request_id)
    await service.opt_out(database=deps.database, claims=claims)
    return web.see_other(f"{PAGE}{request_id}?done=opted_out#opt-out", verdict)


async def _page(
    request: Request,
    deps: Dependencies,
    token: str,
    claims: LinkClaims,
    verdict: Verdict,
    *,
    done: str | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    page = await service.nps_page(database=deps.database, claims=claims, now=datetime.now(UTC))
    language = web.language_of(request, page.language)
    path = f"{PAGE}{claims.request_id}"
    response = web.render(
        request,
        deps,
        "nps.html",
        {
            "page": page,
            "page_path": path,
            "form": form or FormState(),
            "done": done,
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
