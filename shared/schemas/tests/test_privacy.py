"""Masking of contact data (§10): examples and properties."""

from __future__ import annotations

import re

import pytest
from complaint_contracts.events.common import MASKED_EMAIL_PATTERN, MASKED_PHONE_PATTERN
from complaint_contracts.privacy import find_contacts, mask_email, mask_phone, redact_contacts
from hypothesis import example, given
from hypothesis import strategies as st

# --- strategies -------------------------------------------------------------------------

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@st.composite
def written_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """A mainland mobile number as people write it, and its 11 digits."""
    digits = draw(mobiles)
    sep = draw(st.sampled_from(["", " ", "-"]))
    body = f"{digits[:3]}{sep}{digits[3:7]}{sep}{digits[7:]}"
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "86", "86 "]))
    return prefix + body, digits


emails = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,15}", fullmatch=True),
    st.lists(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,10}", fullmatch=True), min_size=1, max_size=3
    ),
    st.from_regex(r"[A-Za-z]{2,6}", fullmatch=True),
)

# Free text around the contacts: Chinese and English words, digits, punctuation; never
# '@' or '+' (they would turn a neighbour into part of an address or number).
FILLER_ALPHABET = (
    "请联系我电话邮箱退款到账没有收到订单麻烦谢谢 refundlate order ORD 0123456789，。！？：:;,.()\n"
)
filler = st.text(alphabet=FILLER_ALPHABET, max_size=30)
# What people put between words and a contact: never a letter or digit, or the contact
# would not be a separate token (the patterns, like people, need a boundary).
SEPARATORS = st.sampled_from([" ", "，", "：", "。", "\n", "（", "）", ", ", ": ", "电话", "邮箱"])


@st.composite
def texts_with_contacts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Free text with raw phone numbers and e-mail addresses in it, and those contacts."""
    contacts = draw(
        st.lists(st.one_of(written_mobiles().map(lambda m: m[0]), emails), min_size=1, max_size=4)
    )
    parts = [draw(filler)]
    for contact in contacts:
        parts += [draw(SEPARATORS), contact, draw(SEPARATORS), draw(filler)]
    return "".join(parts), contacts


# --- examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("138 1234 5678", "138****5678"),
    ],
)
def test_mask_phone_examples(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_mask_email_example() -> None:
    assert mask_email("zhang.wei@example.com") == "z***@example.com"


def test_redact_examples() -> None:
    text = "我的电话+8613812345678，邮箱zhang.wei@example.com，请回电13900001111。"
    assert redact_contacts(text) == "我的电话138****5678，邮箱z***@example.com，请回电139****1111。"
    assert redact_contacts("退款延迟 ORD-20261028-7781") == "退款延迟 ORD-20261028-7781"


def test_find_contacts_examples() -> None:
    assert find_contacts("电话13812345678 邮箱zhang.wei@example.com") == [
        "zhang.wei@example.com",
        "13812345678",
    ]
    assert find_contacts("电话138****5678 邮箱z***@example.com") == []


def test_redaction_of_chained_addresses() -> None:
    assert find_contacts(redact_contacts("a@b.c@d.e")) == []


# --- properties -------------------------------------------------------------------------


@given(written_mobiles())
@example(("+8613812345678", "13812345678"))
def test_mask_phone_keeps_three_and_four_digits(mobile: tuple[str, str]) -> None:
    written, digits = mobile
    masked = mask_phone(written)
    assert masked == f"{digits[:3]}****{digits[-4:]}"
    assert re.fullmatch(MASKED_PHONE_PATTERN, masked)
    assert find_contacts(masked) == []


@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True))
def test_masked_international_numbers_are_not_numbers(number: str) -> None:
    masked = mask_phone(number)
    assert re.fullmatch(MASKED_PHONE_PATTERN, masked)
    assert find_contacts(masked) == []
    assert number.lstrip("+") not in masked


@given(emails)
@example("zhang.wei@example.com")
def test_mask_email_keeps_first_letter_and_domain(email: str) -> None:
    masked = mask_email(email)
    local, _, domain = email.partition("@")
    assert masked == f"{local[0]}***@{domain}"
    assert re.fullmatch(MASKED_EMAIL_PATTERN, masked)
    assert find_contacts(masked) == []


@given(texts_with_contacts())
def test_redaction_leaves_no_raw_contact(case: tuple[str, list[str]]) -> None:
    text, contacts = case
    found = find_contacts(text)
    assert all(contact in found for contact in contacts), "the generator writes real contacts"
    redacted = redact_contacts(text)
    for contact in contacts:
        assert contact not in redacted
    assert find_contacts(redacted) == []


@given(texts_with_contacts())
def test_redaction_is_idempotent(case: tuple[str, list[str]]) -> None:
    once = redact_contacts(case[0])
    assert redact_contacts(once) == once


@given(st.text(alphabet=st.characters(exclude_characters="@"), max_size=80))
def test_redacted_arbitrary_text_has_no_phone_numbers(text: str) -> None:
    once = redact_contacts(text)
    assert find_contacts(once) == []
    assert redact_contacts(once) == once


@given(st.text(max_size=40))
def test_text_without_contacts_is_unchanged(text: str) -> None:
    if not find_contacts(text):
        assert redact_contacts(text) == text
