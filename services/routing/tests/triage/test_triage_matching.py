"""The matching primitives every rule relies on."""

from __future__ import annotations

from routing.triage.domain.matching import Lexicon, matched, normalize


def test_english_pattern_needs_ascii_boundaries() -> None:
    lexicon = Lexicon([r"refund"])
    assert lexicon.find("I want a refund.") == "refund"
    assert lexicon.find("it was refunded") is None
    assert lexicon.find("prerefund") is None


def test_english_pattern_is_case_insensitive() -> None:
    assert Lexicon([r"lawyer"]).find("My LAWYER will call") == "LAWYER"


def test_english_word_inside_chinese_text_matches() -> None:
    # \b would see no boundary between 的 and a: CJK characters count as \w.
    assert Lexicon([r"app"]).find("我的app闪退了") == "app"


def test_chinese_pattern_matches_as_substring() -> None:
    assert Lexicon(["退款"]).find("申请退款三天了") == "退款"


def test_digits_need_boundaries_too() -> None:
    lexicon = Lexicon(["12315"])
    assert lexicon.find("我要打12315投诉") == "12315"
    assert lexicon.find("电话13812315678") is None


def test_normalize_folds_full_width_forms() -> None:
    assert normalize("ＡＰＰ崩溃！") == "APP崩溃!"
    assert Lexicon([r"app"]).find(normalize("ＡＰＰ崩溃")) == "APP"


def test_find_all_reports_distinct_fragments_in_pattern_order() -> None:
    lexicon = Lexicon(["还没", r"still", "太久"])
    assert lexicon.find_all("太久了，还没到，still nothing, still") == ("还没", "still", "太久")


def test_lexicons_concatenate() -> None:
    assert (Lexicon(["a"]) + Lexicon(["b"])).patterns == ("a", "b")


def test_matched_detail() -> None:
    assert matched(["退款", "refund"]) == "matched '退款', 'refund'"
