"""DingTalk custom robot: the signed URL and the markdown a receiver accepts."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notify.robots.domain import dingtalk
from notify.robots.domain.notice import StaffNotice

TOKEN = "566cc69da782ec0123"
SECRET = "SEC1f0a1b2c3d4e5f60718293a4b5c6d7e8f9"
HOOK = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
CASE = "https://console.example.com/cases/0196f7a2"
NOW_MS = 1_760_000_000_000
NOTICE = StaffNotice(
    title="Complaint CMP-2026-000123 breached its SLA",
    lines=("Team: after-sales", "Owner: Li_Na*"),
    case_url=CASE,
    severity="critical",
    language="en",
)

Receivers = dict[str, Callable[..., list[str]]]


def test_the_built_request_is_what_the_receiver_accepts(receivers: Receivers) -> None:
    request = dingtalk.build_request(HOOK, NOTICE, secret=SECRET, timestamp_ms=NOW_MS)
    assert receivers["dingtalk"](request.url, request.body, now_ms=NOW_MS) == []
    assert request.url.startswith(f"{dingtalk.DINGTALK_SEND_URL}?access_token={TOKEN}&")
    assert request.body["msgtype"] == "markdown"


# The receivers fixture is a stateless dict of functions: sharing it across examples is safe.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timestamp_ms=st.integers(min_value=0, max_value=10**13))
def test_every_signature_survives_the_query_string(receivers: Receivers, timestamp_ms: int) -> None:
    # base64 has "+", "/" and "="; unencoded, a "+" would reach DingTalk as a space.
    request = dingtalk.build_request(HOOK, NOTICE, secret=SECRET, timestamp_ms=timestamp_ms)
    assert receivers["dingtalk"](request.url, request.body, now_ms=timestamp_ms) == []


def test_a_request_more_than_an_hour_old_is_refused_by_the_receiver(
    receivers: Receivers,
) -> None:
    request = dingtalk.build_request(HOOK, NOTICE, secret=SECRET, timestamp_ms=NOW_MS)
    late = NOW_MS + dingtalk.MAX_CLOCK_SKEW_MS + 1
    assert receivers["dingtalk"](request.url, request.body, now_ms=late) == ["timestamp"]


def test_a_wrong_secret_is_refused_by_the_receiver(receivers: Receivers) -> None:
    request = dingtalk.build_request(HOOK, NOTICE, secret="other", timestamp_ms=NOW_MS)
    assert receivers["dingtalk"](request.url, request.body, now_ms=NOW_MS) == ["sign"]


def test_a_stale_timestamp_and_sign_in_the_url_are_replaced() -> None:
    stale = f"{HOOK}&timestamp=1&sign=old"
    url = dingtalk.signed_url(stale, secret=SECRET, timestamp_ms=NOW_MS)
    query = parse_qs(urlsplit(url).query)
    assert query["timestamp"] == [str(NOW_MS)]
    assert query["sign"] != ["old"]
    assert len(query["sign"]) == 1


def test_without_a_secret_the_url_is_left_as_given() -> None:
    assert dingtalk.signed_url(HOOK, secret=None, timestamp_ms=NOW_MS) == HOOK


def test_the_markdown_shows_names_without_markup_and_the_link_last() -> None:
    title, text = dingtalk.render(NOTICE)
    assert title == "[Critical] Complaint CMP-2026-000123 breached its SLA"
    assert text.split("\n\n") == [
        "### Critical · Complaint CMP-2026-000123 breached its SLA",
        "Team: after-sales",
        "Owner: Li＿Na＊",
        f"[Open in the staff console]({CASE})",
    ]


@pytest.mark.parametrize("line", ["<font color=#ff0000>x</font>", "a\n### forged heading"])
def test_data_cannot_add_tags_or_blocks(line: str) -> None:
    _, text = dingtalk.render(StaffNotice(title="t", lines=(line,), case_url=CASE, language="en"))
    assert "<" not in text
    assert "\n### forged" not in text
