"""An NPS answer: the score 0–10 (``score``) and an optional comment, refused as a whole
when anything is wrong (nothing stored, the page drawn again with what was chosen); and
why a link cannot take one (used, expired, not ours), each a domain error with its answer
(409, 410, 404). Forged, tampered and unknown links get the same answer: nothing to probe.

Scores are grouped the usual NPS way (promoters 9–10, passives 7–8, detractors 0–6); the
insights compute the score, the page only thanks the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from complaint_runtime.errors import Conflict, DomainError, Gone, NotFound

from feedback.pages.domain.forms import SCORE_VALUES, FormState, check_choice, check_comment, shown

SCORE_MIN = 0
SCORE_MAX = 10
NpsRefusal = Literal["not_found", "answered", "expired"]
NpsGroup = Literal["promoter", "passive", "detractor"]


@dataclass(frozen=True)
class NpsAnswer:
    score: int
    comment: str | None


def read_nps_form(fields: Mapping[str, str]) -> NpsAnswer | FormState:
    score = check_choice(fields.get("score"), SCORE_VALUES, name="score")
    comment = check_comment(fields.get("comment"))
    errors = {
        name: checked.error
        for name, checked in (("score", score), ("comment", comment))
        if checked.error is not None
    }
    if errors or score.value is None:
        values = {"score": score.value or "", "comment": shown(fields.get("comment"))}
        return FormState(values, errors)
    return NpsAnswer(score=int(score.value), comment=comment.value)


def group(score: int) -> NpsGroup:
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise ValueError(f"an NPS score is {SCORE_MIN}..{SCORE_MAX}, got {score}")
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def expiry(*, requested_at: datetime, answer_s: float) -> datetime:
    """Whole seconds, like the link's ``exp`` claim: the link and the row agree."""
    return (requested_at + timedelta(seconds=answer_s)).replace(microsecond=0)


def refusal_reason(
    *,
    found: bool,
    complaint_matches: bool,
    answered_at: datetime | None,
    expires_at: datetime | None,
    now: datetime,
) -> NpsRefusal | None:
    """Why the request's link cannot take an answer now; None when it can."""
    if not found or not complaint_matches:
        return "not_found"
    if answered_at is not None:
        return "answered"
    if expires_at is None or expires_at <= now:
        return "expired"
    return None


class NpsNotFound(NotFound):
    default_title = "NPS survey not found"
    default_kind = "nps-not-found"

    def __init__(self, detail: str = "No NPS survey behind this link.", **kw: Any):
        super().__init__(detail, **kw)


class NpsAlreadyAnswered(Conflict):
    default_title = "NPS survey already answered"
    default_kind = "nps-answered"

    def __init__(self, detail: str = "This link has taken its one answer.", **kw: Any):
        super().__init__(detail, **kw)


class NpsExpired(Gone):
    default_title = "NPS survey expired"
    default_kind = "nps-expired"

    def __init__(self, detail: str = "This link has expired.", **kw: Any):
        super().__init__(detail, **kw)


class NpsRoundNotFound(NotFound):
    default_title = "NPS round not found"
    default_kind = "nps-round-not-found"

    def __init__(self, detail: str = "No NPS round for this period.", **kw: Any):
        super().__init__(detail, **kw)


def refusal(reason: NpsRefusal) -> DomainError:
    errors: dict[NpsRefusal, type[DomainError]] = {
        "not_found": NpsNotFound,
        "answered": NpsAlreadyAnswered,
        "expired": NpsExpired,
    }
    return errors[reason]()
