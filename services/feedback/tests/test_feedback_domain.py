"""Pure rules: what an answer means, where a request goes, when it expires, what it asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from complaint_contracts.vocabulary import CHANNELS
from feedback.domain.answers import Confirmed, Reopened, outcome
from feedback.domain.requests import COMMENT_MAX_CHARS, delivery_channel, expiry, questions
from hypothesis import given
from hypothesis import strategies as st

csats = st.integers(min_value=1, max_value=5)
limits = st.integers(min_value=0, max_value=5)


def test_the_three_outcomes_of_the_spec() -> None:
    assert outcome(solved=True, csat=3, reopen_max=2) == Confirmed()
    assert outcome(solved=True, csat=2, reopen_max=2) == Reopened("low_csat")
    assert outcome(solved=False, csat=5, reopen_max=2) == Reopened("not_solved")


@pytest.mark.parametrize("csat", [0, 6, -1, 100])
def test_csat_out_of_range_is_refused(csat: int) -> None:
    with pytest.raises(ValueError, match="csat must be"):
        outcome(solved=True, csat=csat, reopen_max=2)


@given(csat=csats, reopen_max=limits)
def test_not_solved_always_reopens_as_not_solved(csat: int, reopen_max: int) -> None:
    assert outcome(solved=False, csat=csat, reopen_max=reopen_max) == Reopened("not_solved")


@given(csat=csats, reopen_max=limits)
def test_solved_confirms_exactly_above_the_limit(csat: int, reopen_max: int) -> None:
    decided = outcome(solved=True, csat=csat, reopen_max=reopen_max)
    assert isinstance(decided, Confirmed) == (csat > reopen_max)
    if not isinstance(decided, Confirmed):
        assert decided.reason == "low_csat"


@given(solved=st.booleans(), low=csats, high=csats, reopen_max=limits)
def test_a_better_rating_never_turns_a_confirmation_into_a_reopen(
    solved: bool, low: int, high: int, reopen_max: int
) -> None:
    low, high = min(low, high), max(low, high)
    if isinstance(outcome(solved=solved, csat=low, reopen_max=reopen_max), Confirmed):
        assert isinstance(outcome(solved=solved, csat=high, reopen_max=reopen_max), Confirmed)


def test_preferred_channel_wins() -> None:
    assert delivery_channel(preferred="wechat", complaint_channel="phone", has_phone=True) == (
        "wechat"
    )


def test_phone_complaints_get_a_text_message_when_there_is_a_number() -> None:
    assert delivery_channel(preferred=None, complaint_channel="phone", has_phone=True) == "sms"
    assert delivery_channel(preferred=None, complaint_channel="phone", has_phone=False) == "phone"


@given(channel=st.sampled_from([c for c in CHANNELS if c != "phone"]), has_phone=st.booleans())
def test_otherwise_the_channel_complained_on(channel: str, has_phone: bool) -> None:
    assert delivery_channel(preferred=None, complaint_channel=channel, has_phone=has_phone) == (  # type: ignore[arg-type]
        channel
    )


@given(
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    seconds=st.floats(min_value=1, max_value=10 * 365 * 86_400),
)
def test_expiry_is_whole_seconds_within_a_second_of_the_timeout(
    at: datetime, seconds: float
) -> None:
    expires = expiry(requested_at=at, auto_close_s=seconds)
    assert expires.microsecond == 0
    assert timedelta(0) <= at + timedelta(seconds=seconds) - expires < timedelta(seconds=1)


def test_default_timeout_is_seven_days() -> None:
    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert expiry(requested_at=at, auto_close_s=604_800) == at + timedelta(days=7)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_questions_in_each_language(language: str) -> None:
    asked = questions(language)  # type: ignore[arg-type]
    assert [q.id for q in asked] == ["solved", "csat", "comment"]
    assert (asked[1].min, asked[1].max) == (1, 5)
    assert asked[2].max_length == COMMENT_MAX_CHARS
    assert not asked[2].required
    assert questions("en")[0].text == "Is your complaint solved?"
    assert questions("zh-CN")[0].text != questions("en")[0].text
