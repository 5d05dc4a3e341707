"""The survey page's use cases, on top of the closed loop's (:mod:`feedback.service`): what
the link shows, in the page's terms, and the answer from its form. The rules (one answer
per link, what reopens) are the closed loop's; this module only says what a repeat means
to a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from complaint_contracts.vocabulary import Language
from complaint_runtime.database import Database

from feedback import service
from feedback.domain.answers import OutcomeName
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.domain.links import LinkClaims
from feedback.domain.refusals import SurveyAnswered
from feedback.surveys.domain.forms import SurveyAnswer

SurveyState = Literal["open", "answered"]
Recorded = Literal["recorded", "repeated"]


@dataclass(frozen=True)
class SurveyPage:
    request_id: str
    reference: str | None
    language: Language
    state: SurveyState
    expires_at: datetime
    answered_at: datetime | None
    outcome: OutcomeName | None


async def survey_page(*, database: Database, claims: LinkClaims, now: datetime) -> SurveyPage:
    """The open survey, or the answer it took; expired, closed and unknown requests raise
    their refusal (the page shows each as a page of its own)."""
    survey = await service.show_survey(database=database, claims=claims, now=now)
    return SurveyPage(
        request_id=claims.request_id,
        reference=survey.reference,
        language=survey.language,
        state="answered" if survey.answered_at is not None else "open",
        expires_at=survey.expires_at,
        answered_at=survey.answered_at,
        outcome=survey.outcome,
    )


async def answer_from_page(
    *,
    database: Database,
    claims: LinkClaims,
    answer: SurveyAnswer,
    loop_settings: ClosedLoopSettings,
    now: datetime,
) -> Recorded:
    """Record the form's answer. A repeat (a double tap, the back button, a second tab)
    finds the link used and changes nothing: the first answer stands and the page shows
    it, so the customer sees the same confirmation instead of an error."""
    try:
        await service.answer(
            database=database,
            claims=claims,
            solved=answer.solved,
            csat=answer.csat,
            comment=answer.comment,
            loop_settings=loop_settings,
            now=now,
        )
    except SurveyAnswered:
        return "repeated"
    return "recorded"
