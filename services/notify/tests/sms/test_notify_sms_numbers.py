"""Mainland-China mobile numbers (notify.sms.domain.numbers): unit and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notify.sms.domain.numbers import (
    NotAMobileNumber,
    is_mainland_mobile,
    normalise_mainland_mobile,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "(+86) 138.1234.5678",
        "008613812345678",
        "8613812345678",
        "＋８６１３８１２３４５６７８",  # full-width, as a Chinese input method types it
        " 13812345678 ",
    ],
)
def test_written_forms_of_one_mobile_number_normalise_to_e164(raw: str) -> None:
    assert normalise_mainland_mobile(raw) == "+8613812345678"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("010-12345678", "landline"),
        ("021 6234 5678", "landline"),
        ("+86 10 1234 5678", "landline"),
        ("+86 21 6234 5678", "landline"),
        ("+86 010 1234 5678", "landline"),
        ("0755-8888-6666", "landline"),
        ("+44 7700 900123", "not_mainland_china"),
        ("+1 415 555 0100", "not_mainland_china"),
        ("001 415 555 0100", "not_mainland_china"),
        ("12345678901", "not_mobile"),
        ("11812345678", "not_mobile"),
        ("1381234567", "not_mobile"),
        ("138123456789", "not_mobile"),
        ("138abc45678", "invalid"),
        ("138/1234/5678", "invalid"),
        ("+", "invalid"),
        ("1" * 41, "invalid"),
    ],
)
def test_what_is_not_a_mainland_mobile_number_is_refused_with_its_reason(
    raw: str, reason: str
) -> None:
    with pytest.raises(NotAMobileNumber) as refused:
        normalise_mainland_mobile(raw)
    assert refused.value.reason == reason
    assert str(refused.value)  # a sentence, never the number
    assert raw.strip() == "" or raw not in str(refused.value)


def test_is_mainland_mobile_answers_the_same_question() -> None:
    assert is_mainland_mobile("13812345678")
    assert not is_mainland_mobile("010-12345678")


national = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
prefixes = st.sampled_from(["", "+86", "+86 ", "0086", "86", "(+86) "])
separators = st.sampled_from(["", " ", "-", "."])


@settings(max_examples=300, deadline=None)
@given(national, prefixes, separators)
def test_any_mobile_number_in_any_written_form_normalises_to_its_e164(
    number: str, prefix: str, sep: str
) -> None:
    written = prefix + sep.join([number[:3], number[3:7], number[7:]])
    normalised = normalise_mainland_mobile(written)
    assert normalised == f"+86{number}"
    assert normalise_mainland_mobile(normalised) == normalised  # idempotent


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"0[1-9][0-9]{1,2}-?[0-9]{7,8}", fullmatch=True))
def test_no_landline_is_accepted(number: str) -> None:
    with pytest.raises(NotAMobileNumber) as refused:
        normalise_mainland_mobile(number)
    assert refused.value.reason == "landline"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_either_a_mobile_number_or_refused_never_a_crash(raw: str) -> None:
    try:
        normalised = normalise_mainland_mobile(raw)
    except NotAMobileNumber:
        return
    assert normalised.startswith("+861")
    assert len(normalised) == 14
