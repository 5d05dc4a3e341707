"""The shared text rules: the notice's checks, UTF-8 truncation, the two escapings."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.robots.domain.notice import (
    StaffNotice,
    html_escape_markdown,
    link_target,
    neutralise,
    one_line,
    truncate_utf8,
)

URL = "https://console.example.com/cases/0196f7a2"


@given(text=st.text(), limit=st.integers(min_value=3, max_value=400))
def test_truncation_fits_never_splits_and_keeps_the_longest_prefix(text: str, limit: int) -> None:
    result = truncate_utf8(text, limit)
    assert len(result.encode("utf-8")) <= limit
    if len(text.encode("utf-8")) <= limit:
        assert result == text
        return
    assert result.endswith("…")
    kept = result[: -len("…")]
    assert text.startswith(kept)
    # The longest: one more character of the text would not fit beside the ellipsis.
    next_char = text[len(kept)]
    assert len((kept + next_char + "…").encode("utf-8")) > limit


def test_truncation_cuts_between_multi_byte_characters() -> None:
    # 好 is 3 bytes and … is 3: 10 bytes hold two characters and the ellipsis, not three.
    assert truncate_utf8("好" * 2000, 10) == "好好…"
    assert truncate_utf8("ab😀cd", 7) == "ab…"  # the 4-byte emoji does not fit in 4 bytes


def test_truncation_refuses_a_limit_below_the_ellipsis() -> None:
    with pytest.raises(ValueError, match="ellipsis"):
        truncate_utf8("abcdef", 2)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://console.example.com/x",
        "/cases/1",
        "https://console.example.com/a b",
        'https://console.example.com/a"onmouseover=1',
        "https://console.example.com/<x>",
        "https://console.example.com/" + "a" * 2100,
    ],
)
def test_a_notice_refuses_a_case_link_that_is_not_a_plain_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="case_url"):
        StaffNotice(title="t", lines=(), case_url=url)


def test_a_notice_needs_a_title() -> None:
    with pytest.raises(ValueError, match="title"):
        StaffNotice(title=" \n", lines=(), case_url=URL)


def test_labels_follow_the_language() -> None:
    zh = StaffNotice(title="t", lines=(), case_url=URL, severity="critical")
    en = StaffNotice(title="t", lines=(), case_url=URL, severity="critical", language="en")
    assert (zh.severity_label, en.severity_label) == ("紧急", "Critical")
    assert (zh.link_label, en.link_label) == ("在工作台中查看", "Open in the staff console")


def test_neutralising_turns_markup_into_look_alikes() -> None:
    assert neutralise("a_b*c") == "a＿b＊c"
    assert neutralise('<font color="info">x</font>') == '＜font color="info"＞x＜/font＞'
    assert neutralise("[x](https://evil)") == "［x］(https://evil)"
    assert neutralise("line\n# heading\r\n> quote") == "line ＃ heading ＞ quote"


@given(st.text())
def test_neutralised_text_has_no_markup_character_and_no_line_break(text: str) -> None:
    out = neutralise(text)
    assert not set(out) & set("<>*_[]`#~|\\\n\r")


def test_html_escaping_shows_characters_literally() -> None:
    assert html_escape_markdown("*x* <at id=all></at> & _y_") == (
        "&#42;x&#42; &lt;at id=all&gt;&lt;/at&gt; &amp; &#95;y&#95;"
    )


@given(st.text())
def test_html_escaped_text_has_no_raw_markup_character(text: str) -> None:
    out = html_escape_markdown(text)
    assert not set(out) & set("<>*_[]`~|\\\n\r")
    assert html.unescape(out) == one_line(text)  # shown literally: the same text


def test_link_targets_cannot_close_the_link_early() -> None:
    assert link_target("https://x.example/a(b)c") == "https://x.example/a%28b%29c"


def test_one_line_folds_every_kind_of_line_break() -> None:
    assert one_line(" a\nb\r\nc\u2028d ") == "a b c d"
