"""WeCom group robot: the request a receiver accepts, the 4096-byte limit, the escaping."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from notify.robots.domain import wecom
from notify.robots.domain.notice import StaffNotice

KEY = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
URL = "https://console.example.com/cases/0196f7a2"
notices = st.builds(
    StaffNotice,
    title=st.text(min_size=1).filter(lambda t: t.strip() != ""),
    lines=st.lists(st.text(), max_size=8).map(tuple),
    case_url=st.just(URL),
    severity=st.sampled_from(["info", "warning", "critical"]),
    language=st.sampled_from(["zh-CN", "en"]),
)


def notice(**changes: object) -> StaffNotice:
    values: dict[str, object] = {
        "title": "投诉 CMP-2026-000123 即将超时",
        "lines": ("团队: 售后", "剩余 2 小时"),
        "case_url": URL,
        "severity": "warning",
    }
    return StaffNotice(**(values | changes))  # type: ignore[arg-type]


def test_the_built_request_is_what_the_receiver_accepts(
    receivers: dict[str, Callable[..., list[str]]],
) -> None:
    request = wecom.build_request(wecom.webhook_url(KEY), notice())
    assert request.url == f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
    assert receivers["wecom"](request.url, request.body) == []
    assert set(request.body) == {"msgtype", "markdown"}


def test_the_markdown_has_severity_title_lines_and_the_link_last() -> None:
    content = wecom.render(notice())
    assert content == (
        '<font color="comment">警告</font>\n'
        "## 投诉 CMP-2026-000123 即将超时\n"
        "团队: 售后\n"
        "剩余 2 小时\n"
        f"[在工作台中查看]({URL})"
    )


def test_data_cannot_inject_markup() -> None:
    content = wecom.render(
        notice(title='<font color="info">all clear</font>', lines=("**a_b** [x](https://evil)",))
    )
    assert "all clear" in content
    assert content.count("<") == 2  # the severity's own <font> and </font>
    assert "[x]" not in content
    assert "＊＊a＿b＊＊ ［x］(https://evil)" in content


def test_a_long_notice_is_cut_before_the_link_with_an_ellipsis() -> None:
    content = wecom.render(notice(lines=("很长的描述" * 400,) * 3))
    assert len(content.encode("utf-8")) <= 4096
    body, link = content.rsplit("\n", 1)
    assert body.endswith("…")
    assert link == f"[在工作台中查看]({URL})"


def test_the_longest_link_still_leaves_room_for_the_notice() -> None:
    url = "https://console.example.com/" + "c" * (2048 - len("https://console.example.com/"))
    content = wecom.render(notice(case_url=url, lines=("长" * 3000,)))
    assert len(content.encode("utf-8")) <= 4096
    assert content.endswith(f"({url})")
    assert "## 投诉" in content


@given(notices)
def test_any_notice_fits_keeps_its_link_and_only_our_tags(n: StaffNotice) -> None:
    content = wecom.render(n)
    assert len(content.encode("utf-8")) <= wecom.CONTENT_LIMIT_BYTES
    assert content.endswith(f"[{n.link_label}]({URL})")
    assert content.count("<") == 2
    assert content.count(">") == 2
