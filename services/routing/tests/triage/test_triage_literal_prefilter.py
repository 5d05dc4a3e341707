"""The classifier skips a plain-word pattern whose word does not occur in the text: that is
only right if every match contains the word (ignoring case). Checked for every pattern of
the table, and for made-up words and texts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from routing.triage.domain.classification import (
    KeywordClassifier,
    compile_pattern,
    literal_of,
)

WORDS = st.text(alphabet=st.sampled_from("abcXYZ退款ÉéßİıK 12-"), min_size=1, max_size=6)


@given(word=WORDS, before=WORDS, after=WORDS, upper=st.booleans())
def test_a_match_of_a_plain_word_contains_its_literal(
    word: str, before: str, after: str, upper: bool
) -> None:
    literal = literal_of(word)
    if literal is None:
        return  # scanned every time
    text = before + (word.upper() if upper else word) + after
    if compile_pattern(word).search(text) is not None:
        assert literal in text.lower()


def test_the_tables_plain_words_are_tested_by_substring() -> None:
    classifier = KeywordClassifier()
    patterns = [p for rule in classifier._rules for p in rule.lexicon.patterns]
    literals = [literal_of(p) for p in patterns]
    assert sum(lit is not None for lit in literals) > len(patterns) / 3
    for pattern, literal in zip(patterns, literals, strict=True):
        if literal is not None:
            assert compile_pattern(pattern).search(pattern.upper() + " x") is None or (
                literal in (pattern.upper() + " x").lower()
            )


def test_regex_syntax_and_odd_case_letters_are_always_scanned() -> None:
    assert literal_of("退款.{0,4}没到") is None
    assert literal_of("(a|b)") is None
    assert literal_of("straße") is None  # ß upper-cases to SS: left to the regex
    assert literal_of("refund") == "refund"
    assert literal_of("退款") == "退款"
