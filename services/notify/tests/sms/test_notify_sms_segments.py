"""SMS segments (notify.sms.domain.segments): the GSM rule and Alibaba Cloud's billing rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notify.sms.domain.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    aliyun_length,
    aliyun_parts,
    aliyun_too_long,
    count_segments,
    encoding_of,
)

gsm_basic = st.sampled_from(sorted(GSM7_BASIC))
gsm_any = st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION))
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
bmp_non_gsm = st.characters(min_codepoint=0x0100, max_codepoint=0xD7FF).filter(
    lambda ch: ch not in GSM7_BASIC and ch not in GSM7_EXTENSION
)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 100, "GSM-7", 254, 2),
        ("a" + "€" * 81, "GSM-7", 163, 2),  # 1 + 76 x 2 = 153 fills part 1 exactly
        ("您好", "UCS-2", 2, 1),
        ("投" * 70, "UCS-2", 70, 1),
        ("投" * 71, "UCS-2", 71, 2),
        ("投" * 134, "UCS-2", 134, 2),
        ("投" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "ą", "UCS-2", 70, 1),  # one non-GSM character makes it all UCS-2
        ("😀" * 35, "UCS-2", 70, 1),  # beyond the BMP: two units each
        ("a" + "😀" * 34 + "b" * 2, "UCS-2", 71, 2),
        ("a" * 66 + "😀" + "b" * 4, "UCS-2", 72, 2),  # a surrogate pair moves whole
    ],
)
def test_encoding_units_and_parts(text: str, encoding: str, units: int, parts: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.units, counted.parts) == (encoding, units, parts)


def test_the_escape_pair_that_does_not_fit_starts_the_next_part() -> None:
    # 152 septets, then an extension character: 154 > 153, so part 1 closes at 152.
    # Without the rule, ceil(307 / 153) = 3 would hide it; here 152 + 2 + 153 = 307 needs 3.
    text = "a" * 152 + "€" + "a" * 153
    assert count_segments(text).units == 307
    assert count_segments(text).parts == 3
    assert count_segments("a" * 153 + "€" + "a" * 151).parts == 2


def test_chinese_text_is_ucs2() -> None:
    assert encoding_of("您的投诉已受理") == "UCS-2"
    assert encoding_of("Your complaint C-1 was received.") == "GSM-7"


@settings(max_examples=300, deadline=None)
@given(st.text(gsm_basic, max_size=700))
def test_gsm7_basic_text_takes_the_standard_number_of_parts(text: str) -> None:
    counted = count_segments(text)
    assert counted.encoding == "GSM-7"
    assert counted.units == len(text)
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert counted.parts == expected


@settings(max_examples=300, deadline=None)
@given(st.text(cjk, min_size=1, max_size=400), st.text(gsm_basic, max_size=50))
def test_chinese_makes_any_text_ucs2_with_70_and_67(chinese: str, latin: str) -> None:
    text = latin + chinese
    counted = count_segments(text)
    assert counted.encoding == "UCS-2"
    assert counted.units == len(text)
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert counted.parts == expected


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(gsm_any, cjk, bmp_non_gsm, st.characters()), max_size=400))
def test_parts_hold_the_units_and_never_fewer_than_the_bound(text: str) -> None:
    counted = count_segments(text)
    single, concatenated = (160, 153) if counted.encoding == "GSM-7" else (70, 67)
    assert counted.parts >= 1
    assert (counted.parts == 1) == (counted.units <= single)
    if counted.parts > 1:
        assert counted.parts >= math.ceil(counted.units / concatenated)
        # a split pair wastes at most one unit a part
        assert counted.parts <= math.ceil(counted.units / (concatenated - 1))


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(gsm_any, cjk), max_size=300), st.one_of(gsm_any, cjk))
def test_appending_a_character_never_lowers_the_count(text: str, extra: str) -> None:
    before, after = count_segments(text), count_segments(text + extra)
    if before.encoding == after.encoding:
        assert after.parts >= before.parts
    assert after.units > before.units or after.encoding != before.encoding


def test_aliyun_counts_the_signature_with_its_brackets() -> None:
    assert aliyun_length("投诉平台", "您好") == 6 + 2
    assert aliyun_parts("投诉平台", "投" * 64) == 1  # 6 + 64 = 70
    assert aliyun_parts("投诉平台", "投" * 65) == 2  # 71 > 70, billed at 67 a part
    assert aliyun_parts("投诉平台", "投" * 128) == 2  # 134 = 2 x 67
    assert aliyun_parts("投诉平台", "投" * 129) == 3
    # The documentation's example: 160 long is billed 67 + 67 + 26, three messages.
    assert aliyun_parts("ab", "x" * (160 - 4)) == 3
    assert aliyun_parts("ab", "x" * (150 - 4)) == 3


def test_aliyun_counts_latin_text_like_chinese_not_gsm7() -> None:
    # 100 Latin letters: one GSM-7 SMS, but Alibaba Cloud's domestic rule bills two.
    assert count_segments("a" * 100).parts == 1
    assert aliyun_parts("ab", "a" * 100) == 2


def test_aliyun_refuses_more_than_500() -> None:
    assert not aliyun_too_long("ab", "x" * 496)  # 4 + 496 = 500
    assert aliyun_too_long("ab", "x" * 497)


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(gsm_any, cjk), min_size=1, max_size=12), st.text(cjk, max_size=600))
def test_aliyun_parts_follow_the_70_67_rule(sign: str, text: str) -> None:
    length = len(sign) + 2 + len(text)
    assert aliyun_length(sign, text) == length
    parts = aliyun_parts(sign, text)
    assert parts == (1 if length <= 70 else math.ceil(length / 67))
    assert parts * (70 if parts == 1 else 67) >= length
