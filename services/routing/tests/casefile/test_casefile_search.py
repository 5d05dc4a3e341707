"""Search terms (pure): Chinese words by routing's jieba segmentation, English words
lower-cased, whole references, stop-words and bounds; deterministic for the same text."""

from __future__ import annotations

import pytest
from complaint_runtime.errors import InvalidInput
from complaint_runtime.problems import status_of
from hypothesis import given, settings
from hypothesis import strategies as st
from routing.casefile.domain.search import (
    MAX_QUERY_TERMS,
    MAX_TERMS_PER_CASE,
    case_terms,
    parse_query,
    words,
)


def test_a_chinese_text_gives_its_words_without_stop_words_or_punctuation() -> None:
    assert words("热水器漏水了，地板都湿了。") == ["热水器", "漏水", "地板", "湿"]


def test_english_words_are_lower_cased_without_stop_words_and_single_letters() -> None:
    assert words("The Refund of ORDER A-42 never arrived!") == [
        "refund",
        "order",
        "42",
        "never",
        "arrived",
    ]


def test_full_width_letters_and_digits_are_the_same_words() -> None:
    assert words("ＯＲＤ１２３ 退款") == words("ord123 退款") == ["ord123", "退款"]


def test_a_case_holds_its_whole_references_and_the_words_inside_longer_ones() -> None:
    terms = case_terms(
        reference="C-20261201-000042",
        order_ref="ORD-7781",
        customer_ref="cr_9F2C",
        subject="卫生间漏水",
        description="Water everywhere",
    )
    assert terms[:3] == ("c-20261201-000042", "ord-7781", "cr_9f2c")
    # search mode: 卫生间 also gives 卫生, so a query for the shorter word finds the case
    assert {"20261201", "000042", "ord", "7781", "卫生", "卫生间", "漏水", "water"} <= set(terms)
    assert len(terms) == len(set(terms))


def test_a_case_holds_a_bounded_number_of_terms() -> None:
    description = " ".join(f"word{i}" for i in range(MAX_TERMS_PER_CASE + 50))
    terms = case_terms(reference="C-1", description=description)
    assert len(terms) == MAX_TERMS_PER_CASE
    assert terms[0] == "c-1"  # whole values first: never cut by the bound


def test_a_query_is_its_words_and_its_whole_text() -> None:
    query = parse_query("  退款 Delay ")
    assert query is not None
    assert (query.terms, query.whole) == (("退款", "delay"), "退款 delay")
    assert parse_query("   ") is None
    only_stop_words = parse_query("的")
    assert only_stop_words is not None
    assert only_stop_words.terms == ()  # only the whole value can match


@pytest.mark.parametrize(
    "q",
    [
        "x" * 201,
        " ".join(f"word{i}" for i in range(MAX_QUERY_TERMS + 1)),
    ],
)
def test_a_query_too_long_or_of_too_many_words_is_refused(q: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_query(q)
    assert status_of(refused.value) == 422
    assert refused.value.errors is not None
    assert refused.value.errors[0]["field"] == "q"
    assert refused.value.errors[0]["in"] == "query"


TEXTS = st.text(
    alphabet=st.sampled_from(list("退款漏水延迟热水器快递地板 ,.，。refundORD-0123456789Ａ的了")),
    max_size=60,
)


@given(text=TEXTS)
@settings(max_examples=150, deadline=None)
def test_tokenisation_is_deterministic(text: str) -> None:
    """The same text always gives the same terms, in the same order (stored terms and a
    later query agree), and a text's query words are all among its stored terms."""
    assert words(text) == words(text)
    stored = case_terms(reference="C-1", description=text)
    assert stored == case_terms(reference="C-1", description=text)
    # A query of the whole text (default mode) asks only for words the case holds.
    assert set(words(text)) <= set(stored)
