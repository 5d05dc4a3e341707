"""Customer ids per front end: two CRMs' ``cust-1001`` are two customers, unless the front
ends are configured to share one id namespace; phones and e-mail addresses stay global."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from intake.complaints.domain.customers import (
    customer_id_namespace,
    customer_ref,
    identify,
    identity_keys,
    namespace_of,
)

KEY = b"k" * 32
SHARED = frozenset({"web-shop", "app"})
NAMES = st.text(
    alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cc", "Cs")),
    min_size=1,
    max_size=20,
)


def test_the_same_customer_id_of_two_front_ends_is_two_customers() -> None:
    crm_a = customer_ref(KEY, customer_id="cust-1001", phone=None, email=None, id_namespace="a")
    crm_b = customer_ref(KEY, customer_id="cust-1001", phone=None, email=None, id_namespace="b")
    assert crm_a != crm_b
    [key_a] = identity_keys(KEY, customer_id="cust-1001", phone=None, email=None, id_namespace="a")
    [key_b] = identity_keys(KEY, customer_id="cust-1001", phone=None, email=None, id_namespace="b")
    assert key_a != key_b
    assert key_a.startswith("id:")
    assert key_b.startswith("id:")


def test_shared_front_ends_hash_ids_as_before_namespaces() -> None:
    assert customer_id_namespace("web-shop", shared=SHARED) is None
    assert customer_id_namespace("app", shared=SHARED) is None
    assert customer_id_namespace("partner-x", shared=SHARED) == "partner-x"
    assert customer_id_namespace(None, shared=SHARED) is None
    unscoped = customer_ref(KEY, customer_id="cust-1001", phone=None, email=None)
    shared = customer_ref(KEY, customer_id="cust-1001", phone=None, email=None, id_namespace=None)
    assert shared == unscoped  # complaints stored before keep matching


def test_phones_and_emails_stay_global() -> None:
    a = identify(
        KEY, customer_id="c-1", phone="13812345678", email="li@example.com", id_namespace="a"
    )
    b = identify(
        KEY, customer_id="c-2", phone="13812345678", email="li@example.com", id_namespace="b"
    )
    assert a.identity_keys[1:] == b.identity_keys[1:]  # phone and e-mail keys
    assert (a.phone_hash, a.email_hash) == (b.phone_hash, b.email_hash)
    by_phone_a = identify(KEY, customer_id=None, phone="13812345678", email=None, id_namespace="a")
    by_phone_b = identify(KEY, customer_id=None, phone="13812345678", email=None, id_namespace="b")
    assert by_phone_a.customer_ref == by_phone_b.customer_ref


@given(NAMES, NAMES, st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_different_namespaced_ids_never_hash_alike(
    ns_a: str, ns_b: str, id_a: str, id_b: str
) -> None:
    """Names hold no colon, so (namespace, id) pairs are told apart, also from a shared id
    that looks like ``<name>:<id>``."""
    if (ns_a, id_a.strip()) == (ns_b, id_b.strip()) or not id_a.strip() or not id_b.strip():
        return
    one = customer_ref(KEY, customer_id=id_a, phone=None, email=None, id_namespace=ns_a)
    other = customer_ref(KEY, customer_id=id_b, phone=None, email=None, id_namespace=ns_b)
    assert one != other
    looks_alike = customer_ref(KEY, customer_id=f"{ns_a}:{id_a}", phone=None, email=None)
    assert one != looks_alike


def test_a_stored_complaint_tells_the_namespace_its_id_was_hashed_in() -> None:
    scoped = customer_ref(KEY, customer_id="c-9", phone=None, email=None, id_namespace="crm")
    unscoped = customer_ref(KEY, customer_id="c-9", phone=None, email=None)
    assert namespace_of(KEY, stored_ref=scoped, customer_id="c-9", front_end="crm") == "crm"
    # Stored unscoped: before namespaces, or by a front end configured as shared.
    assert namespace_of(KEY, stored_ref=unscoped, customer_id="c-9", front_end="crm") is None
    assert namespace_of(KEY, stored_ref=unscoped, customer_id="c-9", front_end=None) is None
    assert namespace_of(KEY, stored_ref="cus_x", customer_id=None, front_end="crm") is None
