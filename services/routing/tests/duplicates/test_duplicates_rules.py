"""The §4 duplicate and repeat rules as pure functions: same customer by any identity key,
the 72 h window, the order reference, the text similarity threshold, open originals only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from routing.duplicates.domain.detection import (
    DuplicatePolicy,
    Earlier,
    Incoming,
    count_repeats,
    customer_keys,
    find_original,
    fingerprint,
    normalize_order_ref,
    similarity,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = DuplicatePolicy()
EMAIL = "email:" + "a" * 32
PHONE = "phone:" + "b" * 32
TEXT = "My refund for order 7781 has not arrived after two weeks, please check it."


def incoming(
    *,
    keys: frozenset[str] = frozenset({EMAIL, PHONE}),
    order_ref: str | None = None,
    text: str = TEXT,
    at: datetime = T0,
) -> Incoming:
    return Incoming("new", keys, normalize_order_ref(order_ref), fingerprint(text), at)


def earlier(
    complaint_id: str = "old",
    *,
    keys: frozenset[str] = frozenset({EMAIL}),
    order_ref: str | None = None,
    text: str = TEXT,
    ago: timedelta = timedelta(minutes=5),
    category: str = "billing_refund",
    is_open: bool = True,
    duplicate_of: str | None = None,
) -> Earlier:
    return Earlier(
        complaint_id,
        keys,
        normalize_order_ref(order_ref),
        fingerprint(text),
        T0 - ago,
        category,
        is_open,
        duplicate_of,
    )


def test_same_email_and_same_text_on_another_channel_is_a_duplicate() -> None:
    finding = find_original(incoming(), [earlier()], POLICY)
    assert finding is not None
    assert finding.original_id == "old"
    assert finding.matched_on == ("same_email", "similar_text")
    assert finding.similarity == 1.0


@pytest.mark.parametrize(
    ("ago", "duplicate"),
    [
        (timedelta(hours=71, minutes=59), True),
        (timedelta(hours=72), True),
        (timedelta(hours=72, minutes=1), False),
    ],
)
def test_window_edges(ago: timedelta, duplicate: bool) -> None:
    assert (find_original(incoming(), [earlier(ago=ago)], POLICY) is not None) is duplicate


def test_the_window_is_configuration() -> None:
    narrow = DuplicatePolicy(window=timedelta(hours=1))
    assert find_original(incoming(), [earlier(ago=timedelta(hours=2))], narrow) is None


def test_another_customer_is_never_a_duplicate() -> None:
    other = earlier(keys=frozenset({"email:" + "c" * 32}))
    assert find_original(incoming(), [other], POLICY) is None


def test_a_closed_original_is_not_matched() -> None:
    assert find_original(incoming(), [earlier(is_open=False)], POLICY) is None


def test_same_order_reference_with_other_text_is_a_duplicate() -> None:
    new = incoming(order_ref="ord-2026 1028", text="Where is my parcel? Nobody answers.")
    old = earlier(order_ref="ORD20261028", text="退款迟迟未到账，请尽快处理")
    finding = find_original(new, [old], POLICY)
    assert finding is not None
    assert finding.matched_on == ("same_email", "same_order_ref")
    assert finding.similarity is not None
    assert finding.similarity < POLICY.text_similarity


def test_other_text_without_order_reference_is_not_a_duplicate() -> None:
    new = incoming(text="The delivery man was rude to my mother at the door yesterday.")
    assert find_original(new, [earlier()], POLICY) is None


def test_similarity_threshold() -> None:
    almost = TEXT.replace("two weeks", "two weeks now")
    assert similarity(fingerprint(TEXT), fingerprint(almost)) >= 0.9
    score = similarity(fingerprint(TEXT), fingerprint(almost))
    strict = DuplicatePolicy(text_similarity=min(1.0, score + 0.01))
    lenient = DuplicatePolicy(text_similarity=score)
    assert find_original(incoming(text=almost), [earlier()], lenient) is not None
    assert find_original(incoming(text=almost), [earlier()], strict) is None


def test_a_subset_of_the_words_is_not_near_identical() -> None:
    # token_set_ratio would score this 100; the rule wants near-identical texts.
    assert similarity(fingerprint("refund"), fingerprint(TEXT)) < 0.5


def test_punctuation_case_and_width_do_not_matter() -> None:
    assert fingerprint("退款，到现在还没到账！") == fingerprint("退款 到现在还没到账!")
    assert fingerprint("REFUND   delayed.") == fingerprint("refund delayed")


def test_the_oldest_open_original_stands_never_a_copy() -> None:
    first = earlier("first", ago=timedelta(hours=3))
    copy = earlier("copy", ago=timedelta(hours=1), duplicate_of="first")
    later = earlier("later", ago=timedelta(hours=2))
    finding = find_original(incoming(), [copy, later, first], POLICY)
    assert finding is not None
    assert finding.original_id == "first"


def test_shared_customer_reference_counts_as_the_same_customer() -> None:
    keys = customer_keys(customer_ref="cus_1", identity_keys=())
    finding = find_original(incoming(keys=keys), [earlier(keys=keys)], POLICY)
    assert finding is not None
    assert finding.matched_on == ("same_customer_ref", "similar_text")


def test_blank_order_references_are_none() -> None:
    assert normalize_order_ref("  - ") is None
    assert normalize_order_ref(None) is None


def test_repeats_count_same_customer_same_category_in_30_days_without_copies() -> None:
    history = [
        earlier("a", ago=timedelta(days=2), is_open=False),
        earlier("b", ago=timedelta(days=29, hours=23)),
        earlier("c", ago=timedelta(days=30, hours=1)),  # too old
        earlier("d", ago=timedelta(days=1), category="delivery_logistics"),
        earlier("e", ago=timedelta(days=1), duplicate_of="b"),  # the same complaint as b
        earlier("f", ago=timedelta(days=1), keys=frozenset({"phone:" + "9" * 32})),
    ]
    assert count_repeats(incoming(), history, category="billing_refund", policy=POLICY) == 2


@given(
    minutes=st.integers(min_value=0, max_value=24 * 60 * 10),
    window_h=st.integers(min_value=1, max_value=200),
)
def test_a_duplicate_is_always_within_the_window(minutes: int, window_h: int) -> None:
    policy = DuplicatePolicy(window=timedelta(hours=window_h))
    found = find_original(incoming(), [earlier(ago=timedelta(minutes=minutes))], policy)
    assert (found is not None) == (minutes <= window_h * 60)


@given(keys=st.sets(st.sampled_from([EMAIL, PHONE, "id:" + "d" * 32, "ref:cus_x"]), max_size=4))
def test_a_duplicate_always_shares_an_identity_key(keys: set[str]) -> None:
    found = find_original(incoming(), [earlier(keys=frozenset(keys))], POLICY)
    assert (found is not None) == bool(keys & {EMAIL, PHONE})
