"""Feishu / Lark custom bot: the signed card and text messages a receiver accepts."""

from __future__ import annotations

import html
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notify.robots.domain import feishu
from notify.robots.domain.notice import StaffNotice, one_line

HOOK = "https://open.feishu.cn/open-apis/bot/v2/hook/0b8c3f8e-0000-4000-8000-000000000001"
SECRET = "demo-signing-secret"
CASE = "https://console.example.com/cases/0196f7a2"
NOW_S = 1_760_000_000
NOTICE = StaffNotice(
    title="投诉 <CMP-2026-000123> 已升级",
    lines=("处理人: 王*伟", "<at id=all></at>"),
    case_url=CASE,
    severity="critical",
)

Receivers = dict[str, Callable[..., list[str]]]


def test_the_card_request_is_what_the_receiver_accepts(receivers: Receivers) -> None:
    request = feishu.build_request(HOOK, NOTICE, secret=SECRET, timestamp_s=NOW_S)
    assert request.url == HOOK
    assert receivers["feishu"](request.body, now_s=NOW_S) == []
    assert request.body["msg_type"] == "interactive"
    assert request.body["timestamp"] == str(NOW_S)


def test_the_text_request_is_what_the_receiver_accepts(receivers: Receivers) -> None:
    request = feishu.build_request(HOOK, NOTICE, secret=SECRET, timestamp_s=NOW_S, kind="text")
    assert receivers["feishu"](request.body, now_s=NOW_S) == []
    assert request.body["content"] == {
        "text": f"[紧急] 投诉 ＜CMP-2026-000123＞ 已升级\n处理人: 王*伟\n＜at id=all＞＜/at＞\n"
        f"在工作台中查看: {CASE}"
    }


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timestamp_s=st.integers(min_value=0, max_value=10**10))
def test_every_timestamp_signs_as_the_receiver_expects(
    receivers: Receivers, timestamp_s: int
) -> None:
    request = feishu.build_request(HOOK, NOTICE, secret=SECRET, timestamp_s=timestamp_s)
    assert receivers["feishu"](request.body, now_s=timestamp_s) == []


def test_a_wrong_secret_or_an_old_timestamp_is_refused_by_the_receiver(
    receivers: Receivers,
) -> None:
    wrong = feishu.build_request(HOOK, NOTICE, secret="other", timestamp_s=NOW_S)
    assert receivers["feishu"](wrong.body, now_s=NOW_S) == ["sign"]
    request = feishu.build_request(HOOK, NOTICE, secret=SECRET, timestamp_s=NOW_S)
    late = NOW_S + feishu.MAX_CLOCK_SKEW_S + 1
    assert receivers["feishu"](request.body, now_s=late) == ["timestamp"]


def test_without_a_secret_no_signature_fields_are_sent() -> None:
    request = feishu.build_request(HOOK, NOTICE, secret=None, timestamp_s=NOW_S)
    assert set(request.body) == {"msg_type", "card"}


def test_the_card_has_a_plain_title_in_the_severity_colour_and_literal_markdown() -> None:
    card = feishu.render_card(NOTICE)
    assert card["header"] == {
        "title": {"tag": "plain_text", "content": "投诉 <CMP-2026-000123> 已升级"},
        "template": "red",
    }
    assert card["elements"] == [
        {
            "tag": "markdown",
            "content": "**紧急**\n处理人: 王&#42;伟\n&lt;at id=all&gt;&lt;/at&gt;\n"
            f"[在工作台中查看]({CASE})",
        }
    ]


@given(st.lists(st.text(), max_size=5))
def test_any_line_is_shown_literally_and_cannot_mention_everyone(lines: list[str]) -> None:
    card = feishu.render_card(
        StaffNotice(title="t", lines=tuple(lines), case_url=CASE, language="en")
    )
    elements = card["elements"]
    assert isinstance(elements, list)
    element = elements[0]
    assert isinstance(element, dict)
    content = element["content"]
    assert isinstance(content, str)
    shown = content.split("\n")[1:-1]
    assert "<" not in "".join(shown)
    assert [html.unescape(s) for s in shown] == [one_line(x) for x in lines]
