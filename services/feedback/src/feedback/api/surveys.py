"""The customer's survey, authenticated by the signed link alone (no API key, no login).
Rate limited like the survey page, on the same counters (:func:`limited`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from complaint_customer_web.web import RATE_LIMIT_HEADERS
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from feedback import service
from feedback.api import PROBLEM
from feedback.bootstrap import Dependencies, DependenciesDep
from feedback.domain.answers import Reopened
from feedback.domain.links import ExpiredLink, InvalidLink, LinkClaims, verify_link_token
from feedback.domain.refusals import SurveyExpired, SurveyNotFound
from feedback.domain.requests import COMMENT_MAX_CHARS
from feedback.pages import web
from feedback.pages.domain.throttling import Action

router = APIRouter(prefix="/v1/surveys", tags=["surveys"])

ERRORS: dict[int | str, dict[str, Any]] = {
    **dict.fromkeys((400, 404, 409, 410, 413, 422, 503), PROBLEM),
    429: {
        **PROBLEM,
        "description": "Too many requests with this link, or from this client address; "
        "`Retry-After` says when to try again",
        "headers": RATE_LIMIT_HEADERS,
    },
}


def limited(action: Action) -> Callable[..., Awaitable[None]]:
    """A route's dependency: the request counts against the survey page's limits of
    ``action`` (view, answer): 429 problem with ``Retry-After`` and ``RateLimit-*`` when
    exhausted, ``RateLimit-*`` on the answer otherwise."""

    async def counted(
        token: str, request: Request, response: Response, deps: DependenciesDep
    ) -> None:
        verdict = await web.throttle_link(request, deps, action, token)
        response.headers.update(verdict.headers())

    return counted


class QuestionOut(BaseModel):
    id: Literal["solved", "csat", "comment"]
    kind: Literal["boolean", "scale", "text"]
    text: str
    required: bool
    min: int | None = None
    max: int | None = None
    max_length: int | None = None


class SurveyOut(BaseModel):
    reference: str | None = Field(description="The complaint's reference, when known")
    language: Literal["zh-CN", "en"]
    questions: list[QuestionOut]
    expires_at: datetime
    answered: bool
    answered_at: datetime | None = None
    outcome: Literal["confirmed", "reopened"] | None = None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    solved: bool = Field(description="Is the complaint solved?")
    csat: int = Field(ge=1, le=5, description="Satisfaction, 1 (very dissatisfied) to 5")
    comment: str | None = Field(None, max_length=COMMENT_MAX_CHARS)


class AnswerOut(BaseModel):
    outcome: Literal["confirmed", "reopened"]
    reason: Literal["not_solved", "low_csat"] | None = Field(
        None, description="Why the complaint was reopened"
    )
    reference: str | None = None
    answered_at: datetime


def _claims(deps: Dependencies, token: str, now: datetime) -> LinkClaims:
    """The link is the customer's only credential: expired is 410, anything not genuine is
    the same 404 as a link to nothing."""
    try:
        return verify_link_token(token, secret=deps.link_secret, now=now)
    except ExpiredLink as exc:
        raise SurveyExpired() from exc
    except InvalidLink as exc:
        raise SurveyNotFound() from exc


@router.get(
    "/{token}",
    response_model=SurveyOut,
    responses=ERRORS,
    dependencies=[Depends(limited("view"))],
    summary="What is asked",
)
async def get_survey(token: str, deps: DependenciesDep) -> SurveyOut:
    now = datetime.now(UTC)
    survey = await service.show_survey(
        database=deps.database, claims=_claims(deps, token, now), now=now
    )
    return SurveyOut(
        reference=survey.reference,
        language=survey.language,
        questions=[QuestionOut(**vars(q)) for q in survey.questions],
        expires_at=survey.expires_at,
        answered=survey.answered_at is not None,
        answered_at=survey.answered_at,
        outcome=survey.outcome,
    )


@router.post(
    "/{token}",
    response_model=AnswerOut,
    responses=ERRORS,
    dependencies=[Depends(limited("answer"))],
    summary="Answer once",
)
async def post_answer(token: str, answer: AnswerIn, deps: DependenciesDep) -> AnswerOut:
    now = datetime.now(UTC)
    result = await service.answer(
        database=deps.database,
        claims=_claims(deps, token, now),
        solved=answer.solved,
        csat=answer.csat,
        comment=answer.comment,
        loop_settings=deps.loop_settings,
        now=now,
    )
    decided = result.outcome
    return AnswerOut(
        outcome=decided.name,
        reason=decided.reason if isinstance(decided, Reopened) else None,
        reference=result.reference,
        answered_at=result.answered_at,
    )
