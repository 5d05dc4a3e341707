"""Emotion level: one example per rule, and the levels they add up to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from routing.triage.domain.emotion import assess_emotion


def level(text: str, subject: str = "") -> str:
    return assess_emotion(subject=subject, description=text).level


def rules(text: str) -> list[str]:
    return [r.rule for r in assess_emotion(subject="", description=text).rules_fired]


def test_neutral_text_is_blue() -> None:
    assert level("我想把收货地址改到公司。") == "blue"
    assert level("The blender I bought stopped working.") == "blue"
    assert rules("ok") == ["emotion.level"]


def test_mafan_alone_is_not_irritation() -> None:
    # 麻烦 is mostly the polite "please"; §4 counts it only over three messages.
    assert level("麻烦帮我查一下订单。") == "blue"


@pytest.mark.parametrize(
    "text",
    [
        "等得太久了",
        "迟迟没有消息",
        "还没到",
        "I am still waiting",
        "It broke again",
        "Nobody answers the phone",
        "I'm disappointed",
    ],
)
def test_mild_irritation_is_yellow(text: str) -> None:
    assert level(text) == "yellow"
    assert "emotion.negative_mild" in rules(text)


def test_mild_words_never_add_up_to_red() -> None:
    assert level("迟迟不退，还没到账，等了太久，到现在还没消息，again and again, still") == "yellow"


@pytest.mark.parametrize("text", ["服务态度恶劣", "This is unacceptable", "简直是骗子"])
def test_one_strong_word_is_yellow(text: str) -> None:
    assert level(text) == "yellow"
    assert "emotion.negative_strong" in rules(text)


def test_strong_word_with_exclamation_is_red() -> None:
    assert level("服务态度恶劣！") == "red"
    assert level("This is unacceptable!") == "red"


def test_two_strong_words_are_red() -> None:
    assert level("terrible and rude service") == "red"


def test_strong_and_mild_are_red() -> None:
    assert level("态度恶劣，等了太久") == "red"


@pytest.mark.parametrize("text", ["请尽快处理！", "Please hurry!", "快点!!!"])
def test_exclamation_alone_is_yellow(text: str) -> None:
    assert level(text) == "yellow"
    assert "emotion.exclamation" in rules(text)


def test_shouting_in_capitals_counts() -> None:
    assert level("PLEASE CALL ME BACK") == "yellow"
    assert "emotion.all_caps" in rules("PLEASE CALL ME BACK")
    assert level("PLEASE CALL ME BACK!") == "red"


def test_capitals_need_two_words_of_three_letters() -> None:
    assert level("I said NO") == "blue"
    assert level("This is URGENT") == "blue"
    assert level("OK GO") == "blue"


def test_acronyms_and_references_are_not_shouting() -> None:
    assert level("The USB port and the HDMI port on my TV") == "blue"
    assert level("Order ORD-20261002-8812 and ABC-123 ref") == "blue"


@pytest.mark.parametrize(
    "text",
    [
        "再不解决我就曝光",
        "我已经联系律师",
        "准备起诉你们",
        "I will call my lawyer",
        "I am going to sue you",
        "I will contact the regulator",
        "投诉到12315",
    ],
)
def test_threats_are_red(text: str) -> None:
    assert level(text) == "red"
    assert "emotion.threat" in rules(text)


@pytest.mark.parametrize("text", ["热水器漏电", "家里的插座起火了", "my data was leaked"])
def test_alarm_is_red(text: str) -> None:
    assert level(text) == "red"
    assert "emotion.alarm" in rules(text)


def test_subject_counts_too() -> None:
    assert level("", subject="THIRD TIME ASKING!!!") == "red"


def test_full_width_exclamation_counts() -> None:
    assert level("请尽快！") == level("请尽快!") == "yellow"


@given(st.text(max_size=200), st.text(max_size=50))
def test_level_is_valid_and_explained(description: str, subject: str) -> None:
    result = assess_emotion(subject=subject, description=description)
    assert result.level in ("blue", "yellow", "red")
    assert result.rules_fired[-1].rule == "emotion.level"
    assert assess_emotion(subject=subject, description=description) == result


@given(st.text(max_size=200))
def test_a_threat_always_makes_red(description: str) -> None:
    assert level(description + " 我要找律师") == "red"


@pytest.mark.parametrize("text", ["热水器没有漏电", "no injury, thankfully", "并未发生泄露"])
def test_a_denied_hazard_is_no_alarm(text: str) -> None:
    assert level(text) == "blue"
    assert "emotion.alarm" not in rules(text)
    assert "emotion.negated" in rules(text)


def test_a_denial_does_not_hide_a_hazard_in_the_next_clause() -> None:
    assert level("没有漏电，但是插座起火了") == "red"
    assert "emotion.alarm" in rules("没有漏电，但是插座起火了")
