"""Identity keys: one keyed hash per identifier, so channels that share any one of them
recognise the same customer (§4 duplicates), and never the raw contact (§10)."""

from __future__ import annotations

import re

from complaint_contracts.events import CustomerView
from hypothesis import given
from hypothesis import strategies as st
from intake.complaints.domain.customers import identity_keys

KEY = b"k" * 32
SHAPE = re.compile(r"(id|phone|email):[0-9a-f]{32}")
OTHER_KEY = b"o" * 32


def keys(
    *,
    customer_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    key: bytes = KEY,
) -> tuple[str, ...]:
    return identity_keys(key, customer_id=customer_id, phone=phone, email=email)


def test_one_key_per_identifier_given_prefixed_by_kind() -> None:
    given_all = keys(customer_id="cust-1", phone="13812345678", email="zhang@example.com")
    assert [k.split(":")[0] for k in given_all] == ["id", "phone", "email"]
    assert keys(email="zhang@example.com") == (given_all[2],)
    assert keys() == ()


def test_web_and_app_share_the_email_key_whatever_else_they_give() -> None:
    web = keys(email="Zhang@Example.com ")
    app = keys(email="zhang@example.com", phone="+86 138 1234 5678")
    assert set(web) & set(app) == {web[0]}


def test_phone_formats_give_one_key() -> None:
    assert keys(phone="0086 138-1234-5678") == keys(phone="13812345678")


def test_another_key_gives_other_hashes() -> None:
    assert keys(phone="13812345678") != keys(phone="13812345678", key=OTHER_KEY)


def test_the_keys_fit_the_contract() -> None:
    view = CustomerView(
        customer_ref="cus_1", identity_keys=keys(customer_id="c-1", phone="13812345678")
    )
    assert len(view.identity_keys) == 2


phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
emails = st.from_regex(r"[a-z][a-z0-9.]{0,15}@[a-z]{2,10}\.(com|cn|org)", fullmatch=True)


@given(phone=phones, email=emails, customer_id=st.text(min_size=1, max_size=40))
def test_keys_never_contain_the_raw_contacts(phone: str, email: str, customer_id: str) -> None:
    produced = keys(customer_id=customer_id, phone=phone, email=email)
    joined = " ".join(produced)
    assert phone not in joined
    assert email not in joined
    assert "@" not in joined
    # Nothing but the kind and a hex digest: no room for any part of a raw identifier.
    assert all(SHAPE.fullmatch(k) for k in produced)
    CustomerView(customer_ref="cus_1", identity_keys=produced)  # the contract accepts them
