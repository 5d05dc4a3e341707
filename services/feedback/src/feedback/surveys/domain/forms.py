"""The survey form: ``solved`` (yes/no), ``csat`` (1–5), ``comment`` (optional). A form
that is not all right is refused as a whole, with every problem named at its field, and
nothing is stored (the page is drawn again with the customer's choices)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from feedback.pages.domain.forms import (
    CSAT_VALUES,
    SOLVED_VALUES,
    FormState,
    check_choice,
    check_comment,
    shown,
)


@dataclass(frozen=True)
class SurveyAnswer:
    solved: bool
    csat: int
    comment: str | None


def read_survey_form(fields: Mapping[str, str]) -> SurveyAnswer | FormState:
    solved = check_choice(fields.get("solved"), SOLVED_VALUES, name="solved")
    csat = check_choice(fields.get("csat"), CSAT_VALUES, name="csat")
    comment = check_comment(fields.get("comment"))
    errors = {
        name: checked.error
        for name, checked in (("solved", solved), ("csat", csat), ("comment", comment))
        if checked.error is not None
    }
    if errors or solved.value is None or csat.value is None:
        values = {
            "solved": solved.value or "",
            "csat": csat.value or "",
            "comment": shown(fields.get("comment")),
        }
        return FormState(values, errors)
    return SurveyAnswer(solved=solved.value == "yes", csat=int(csat.value), comment=comment.value)
