"""The §4 conversation rule: the same irritation word in three consecutive customer
messages (the description first) fires once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from routing.triage.domain.emotion_streak import irritation_words, observe


def run(*messages: str, length: int = 3) -> list[str | None]:
    runs: dict[str, int] = {}
    fired: list[str | None] = []
    for text in messages:
        update = observe(runs, text, length=length)
        runs = update.runs
        fired.append(update.fired.detail if update.fired else None)
    return fired


def test_same_word_in_three_consecutive_messages_fires_on_the_third() -> None:
    fired = run("麻烦看一下我的退款", "麻烦尽快处理", "麻烦给个答复")
    assert fired[:2] == [None, None]
    assert fired[2] is not None
    assert "'麻烦'" in fired[2]


def test_english_words_fire_whatever_the_case() -> None:
    assert run("Still no refund.", "It is STILL missing", "still nothing")[2] is not None


def test_a_message_without_the_word_breaks_the_streak() -> None:
    assert run("麻烦看一下", "麻烦处理", "谢谢", "麻烦回复") == [None] * 4


def test_different_words_do_not_add_up() -> None:
    assert run("still waiting", "again no answer", "麻烦处理") == [None] * 3


def test_the_rule_fires_once_not_on_every_later_message() -> None:
    fired = run("again", "again", "again", "again", "again")
    assert [f is not None for f in fired] == [False, False, True, False, False]


def test_the_length_is_configuration() -> None:
    assert run("again", "again", length=2)[1] is not None


def test_words_are_recognised_in_full_width_and_inside_chinese() -> None:
    assert "还没" in irritation_words("我的退款到现在还没到账")
    assert "again" in irritation_words("ＡＧＡＩＮ！")
    assert "again" not in irritation_words("against the rules")


@given(st.lists(st.sampled_from(["麻烦处理", "still waiting", "谢谢", "again?"]), max_size=12))
def test_fires_exactly_when_a_run_reaches_three(messages: list[str]) -> None:
    fired = run(*messages)
    for i, detail in enumerate(fired):
        window = messages[max(0, i - 3) : i + 1]
        expected = (
            any(
                all(w in irritation_words(m) for m in window[-3:])
                and (len(window) < 4 or w not in irritation_words(window[0]))
                for w in irritation_words(messages[i])
            )
            and i >= 2
        )
        assert (detail is not None) == expected, (messages, i)
