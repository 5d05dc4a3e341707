"""The customer's survey, authenticated by the signed link alone (no API key, no login)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from complaint_contracts.vocabulary import Language
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from feedback import service
from feedback.api.deps import PROBLEM, link_secret_of, settings_of
from feedback.domain.links import ExpiredLink, InvalidLink, LinkClaims, verify_link_token
from feedback.domain.requests import COMMENT_MAX_CHARS, questions

router = APIRouter(prefix="/v1/surveys", tags=["surveys"])

ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 404, 409, 410, 413, 422, 503), PROBLEM
)


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


def _claims(request: Request, token: str, now: datetime) -> LinkClaims:
    try:
        return verify_link_token(token, secret=link_secret_of(request), now=now)
    except ExpiredLink as exc:
        raise service.problem_for("expired") from exc
    except InvalidLink as exc:
        raise service.link_not_found() from exc


@router.get("/{token}", response_model=SurveyOut, responses=ERRORS, summary="What is asked")
async def get_survey(token: str, request: Request) -> SurveyOut:
    now = datetime.now(UTC)
    claims = _claims(request, token, now)
    found = await service.find_request(
        database=runtime_of(request).database, request_id=claims.request_id
    )
    reason = service.refusal_reason(found, claims=claims, now=now)
    # An answered survey still shows (with its outcome); other refusals do not.
    if found is None or reason not in ("", "answered"):
        raise service.problem_for(reason or "not_found")
    assert found.expires_at is not None
    language: Language = "en" if found.language == "en" else "zh-CN"
    return SurveyOut(
        reference=found.reference,
        language=language,
        questions=[QuestionOut(**vars(q)) for q in questions(language)],
        expires_at=found.expires_at,
        answered=found.answered_at is not None,
        answered_at=found.answered_at,
        outcome=found.outcome,
    )


@router.post("/{token}", response_model=AnswerOut, responses=ERRORS, summary="Answer once")
async def post_answer(token: str, answer: AnswerIn, request: Request) -> AnswerOut:
    now = datetime.now(UTC)
    claims = _claims(request, token, now)
    database = runtime_of(request).database
    result = await service.answer(
        database=database,
        claims=claims,
        solved=answer.solved,
        csat=answer.csat,
        comment=answer.comment,
        policy=settings_of(request).policy(),
        now=now,
    )
    found = await service.find_request(database=database, request_id=claims.request_id)
    decided = result.outcome
    return AnswerOut(
        outcome=decided.name,
        reason=getattr(decided, "reason", None),
        reference=found.reference if found else None,
        answered_at=result.answered_at,
    )
