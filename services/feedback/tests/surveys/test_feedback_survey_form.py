"""What the survey form accepts (pure), and the pages' words exist in both languages."""

from __future__ import annotations

import pytest
from complaint_customer_web.catalog import Catalog
from feedback.pages.domain.forms import MAX_COMMENT, FormState, check_comment
from feedback.pages.domain.throttling import DEFAULT_LIMITS, limits_with, link_of_token
from feedback.pages.domain.words import WORDS
from feedback.surveys.domain.forms import SurveyAnswer, read_survey_form
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize("solved", ["yes", "no"])
@pytest.mark.parametrize("csat", ["1", "2", "3", "4", "5"])
def test_every_offered_choice_is_taken(solved: str, csat: str) -> None:
    answer = read_survey_form({"solved": solved, "csat": csat})
    assert answer == SurveyAnswer(solved=solved == "yes", csat=int(csat), comment=None)


@given(
    solved=st.one_of(st.none(), st.text(max_size=5)),
    csat=st.one_of(st.none(), st.text(max_size=5)),
)
def test_anything_not_offered_is_refused_with_its_field_named(
    solved: str | None, csat: str | None
) -> None:
    fields = {k: v for k, v in (("solved", solved), ("csat", csat)) if v is not None}
    read = read_survey_form(fields)
    offered = solved in ("yes", "no") and csat in ("1", "2", "3", "4", "5")
    assert isinstance(read, SurveyAnswer) == offered
    if isinstance(read, FormState):
        assert set(read.errors) <= {"solved", "csat"}
        assert read.errors


def test_a_comment_of_exactly_the_limit_counts_line_breaks_once() -> None:
    text = ("a" * 99 + "\r\n") * 20  # 2000 characters once CRLF is LF
    assert check_comment(text).value == text.replace("\r\n", "\n").strip()
    assert check_comment("a" * (MAX_COMMENT + 1)).error == "form.comment.too_long"
    assert check_comment("   ").value is None
    assert check_comment("tab\tok").value == "tab\tok"
    assert check_comment("bell\x07").error == "form.comment.control"


def test_the_words_exist_in_both_languages() -> None:
    assert Catalog().with_messages(WORDS).missing() == {}


def test_rate_limits_refuse_unknown_names_and_never_key_a_token() -> None:
    assert limits_with({"answer.link": "1/hour"})["answer.link"] == "1/hour"
    assert set(limits_with({})) == set(DEFAULT_LIMITS)
    with pytest.raises(ValueError, match="unknown rate limit"):
        limits_with({"answers.link": "1/hour"})
    assert "secret-token" not in link_of_token("secret-token")
