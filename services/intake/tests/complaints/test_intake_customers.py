"""Customer references: one keyed hash per customer, whatever the channel's format."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intake.complaints.domain.customers import customer_ref, normalize_email, normalize_phone

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
REF = re.compile(r"^cus_[0-9a-f]{32}$")


def ref(
    *,
    customer_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    key: bytes = KEY,
) -> str:
    return customer_ref(key, customer_id=customer_id, phone=phone, email=email)


@pytest.mark.parametrize(
    "phone", ["+8613812345678", "138 1234 5678", "8613812345678", "138-1234-5678", "(138)12345678"]
)
def test_phone_formats_give_one_reference(phone: str) -> None:
    assert ref(phone=phone) == ref(phone="13812345678")
    assert REF.match(ref(phone=phone))


def test_international_dialling_prefix_gives_the_same_reference() -> None:
    assert ref(phone="0086 138 1234 5678") == ref(phone="+8613812345678")


def test_phone_normalisation() -> None:
    assert normalize_phone("+86 138 1234 5678") == "13812345678"
    assert normalize_phone("+1 (415) 555-0100") == "14155550100"
    assert normalize_phone("861234") == "861234"  # not a +86 mobile: kept as it is


def test_other_numbers_give_other_references() -> None:
    assert ref(phone="13812345678") != ref(phone="13812345679")


@pytest.mark.parametrize(
    "email", ["Zhang.Wei@Example.COM", "  zhang.wei@example.com ", "ZHANG.WEI@EXAMPLE.COM"]
)
def test_email_is_case_insensitive(email: str) -> None:
    assert ref(email=email) == ref(email="zhang.wei@example.com")
    assert normalize_email(email) == "zhang.wei@example.com"


def test_other_emails_give_other_references() -> None:
    assert ref(email="zhang.wei@example.com") != ref(email="zhang.wen@example.com")


def test_customer_id_is_preferred_over_phone_and_email() -> None:
    by_id = ref(customer_id="CRM-1")
    assert ref(customer_id="CRM-1", phone="13812345678") == by_id
    assert ref(customer_id="CRM-1", phone="13900000000", email="a@example.com") == by_id
    assert ref(customer_id=" CRM-1 ") == by_id
    assert by_id != ref(phone="13812345678")


def test_phone_is_preferred_over_email() -> None:
    assert ref(phone="13812345678", email="a@example.com") == ref(phone="13812345678")
    assert ref(phone="13812345678", email="a@example.com") != ref(email="a@example.com")


def test_kinds_do_not_collide() -> None:
    # The same string as an id, a phone and an e-mail is three different customers.
    assert len({ref(customer_id="13812345678"), ref(phone="13812345678")}) == 2
    assert ref(customer_id="a@example.com") != ref(email="a@example.com")


def test_the_key_matters() -> None:
    assert ref(phone="13812345678") != ref(phone="13812345678", key=OTHER_KEY)
    assert ref(customer_id="CRM-1") != ref(customer_id="CRM-1", key=OTHER_KEY)


def test_a_customer_needs_an_identifier() -> None:
    with pytest.raises(ValueError, match="customer needs"):
        ref()
    with pytest.raises(ValueError, match="customer needs"):
        ref(customer_id="", phone="", email="")


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(
    mobile=mobiles,
    style=st.sampled_from(["{m}", "+86{m}", "86{m}", "+86 {a} {b} {c}", "{a}-{b}-{c}"]),
)
def test_reference_never_contains_the_number(mobile: str, style: str) -> None:
    formatted = style.format(m=mobile, a=mobile[:3], b=mobile[3:7], c=mobile[7:])
    reference = ref(phone=formatted)
    assert REF.match(reference)
    assert reference == ref(phone=mobile)
    assert mobile not in reference
    assert mobile[-8:] not in reference


@given(a=mobiles, b=mobiles)
def test_distinct_numbers_distinct_references(a: str, b: str) -> None:
    assert (ref(phone=a) == ref(phone=b)) == (a == b)
