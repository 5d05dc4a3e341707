"""NOTIFY_ROBOTS parsed into the robot directory: good entries, each mistake named by team and
field, and never a URL's key or a secret in an error or a repr."""

from __future__ import annotations

import json
import traceback

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notify.robots.domain.directory import (
    InvalidRobots,
    RobotDirectory,
    is_loopback_host,
    parse_robots,
)

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-KEY-0001"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token=ding-TOKEN-0002"
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/feishu-TOKEN-0003"
SECRET = "SECsigning-SECRET-0004"
CREDENTIALS = ("wecom-KEY-0001", "ding-TOKEN-0002", "feishu-TOKEN-0003", "signing-SECRET-0004")


def robots(**entries: object) -> str:
    return json.dumps({key.replace("_", "-"): value for key, value in entries.items()})


def test_empty_or_blank_is_no_robot() -> None:
    for text in ("", "  ", "{}"):
        directory = parse_robots(text)
        assert directory.empty
        assert not directory.has_robot("after-sales")
        assert directory.robot_for(None) is None


def test_each_vendor_and_the_default() -> None:
    directory = parse_robots(
        json.dumps(
            {
                "after-sales": {"vendor": "wecom", "url": WECOM_URL},
                "billing": {"vendor": "dingtalk", "url": DINGTALK_URL, "secret": SECRET},
                "*": {"vendor": "lark", "url": FEISHU_URL, "secret": SECRET},
            }
        )
    )
    assert not directory.empty
    sales, billing = directory.robot_for("after-sales"), directory.robot_for("billing")
    assert sales is not None
    assert (sales.vendor, sales.url, sales.secret) == (
        "wecom",
        WECOM_URL,
        None,
    )
    assert billing is not None
    assert (billing.vendor, billing.secret) == ("dingtalk", SECRET)
    # "lark" is Feishu; the default serves unknown teams and a complaint without a team.
    assert directory.default is not None
    assert directory.default.vendor == "feishu"
    assert directory.robot_for("logistics") is directory.default
    assert directory.robot_for(None) is directory.default
    assert directory.has_robot("logistics")
    assert directory.has_robot(None)


def test_without_default_only_listed_teams_have_a_robot() -> None:
    directory = parse_robots(robots(after_sales={"vendor": "wecom", "url": WECOM_URL}))
    assert directory.has_robot("after-sales")
    assert not directory.has_robot("billing")
    assert not directory.has_robot(None)


def test_the_directory_is_read_only() -> None:
    directory = parse_robots(robots(after_sales={"vendor": "wecom", "url": WECOM_URL}))
    with pytest.raises(TypeError):
        directory.by_team["billing"] = directory.by_team["after-sales"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("entry", "fault"),
    [
        ({"vendor": "slack", "url": WECOM_URL}, "vendor must be one of"),
        ({"url": WECOM_URL}, "vendor must be one of"),
        ({"vendor": "wecom"}, "url is missing"),
        ({"vendor": "wecom", "url": ""}, "url is missing"),
        ({"vendor": "wecom", "url": 42}, "url is missing"),
        ({"vendor": "wecom", "url": WECOM_URL.replace("https", "ftp")}, "absolute https"),
        ({"vendor": "wecom", "url": "/cgi-bin/webhook/send?key=k"}, "absolute https"),
        ({"vendor": "wecom", "url": WECOM_URL.replace("https", "http")}, "must use https"),
        ({"vendor": "wecom", "url": WECOM_URL + " x"}, "whitespace"),
        ({"vendor": "wecom", "url": WECOM_URL + "#frag"}, "user info or a fragment"),
        (
            {"vendor": "wecom", "url": WECOM_URL.replace("https://", "https://u:p@")},
            "user info",
        ),
        ({"vendor": "wecom", "url": "https://qyapi.weixin.qq.com:99999/x?key=k"}, "valid URL"),
        ({"vendor": "wecom", "url": WECOM_URL.split("?")[0]}, "key query parameter"),
        ({"vendor": "dingtalk", "url": DINGTALK_URL.split("?")[0]}, "access_token"),
        ({"vendor": "wecom", "url": WECOM_URL, "secret": SECRET}, "not signed"),
        ({"vendor": "dingtalk", "url": DINGTALK_URL, "secret": "  "}, "non-blank"),
        ({"vendor": "dingtalk", "url": DINGTALK_URL, "secret": 7}, "non-blank"),
        ({"vendor": "feishu", "url": FEISHU_URL, "secret": SECRET + "\n"}, "whitespace"),
        ({"vendor": "feishu", "url": FEISHU_URL, "secert": SECRET}, "unknown field"),
        ("https://example.com", "must be an object"),
    ],
)
def test_a_bad_entry_names_team_and_field_never_a_credential(entry: object, fault: str) -> None:
    with pytest.raises(InvalidRobots) as caught:
        parse_robots(json.dumps({"after-sales": entry}))
    message = str(caught.value)
    assert fault in message
    assert "team 'after-sales'" in message or "team name" in message
    assert not any(credential in message for credential in CREDENTIALS)


def test_a_bad_default_is_named_as_the_default() -> None:
    with pytest.raises(InvalidRobots, match=r"default robot '\*': vendor"):
        parse_robots(json.dumps({"*": {"vendor": "teams", "url": WECOM_URL}}))


@pytest.mark.parametrize(
    "text",
    [
        '{"after-sales": {"vendor": "wecom", "url": "' + WECOM_URL + '"',  # cut short
        "[1, 2]",
        '"' + WECOM_URL + '"',
        json.dumps({" ": {"vendor": "wecom", "url": WECOM_URL}}),
    ],
)
def test_bad_documents_are_refused_without_their_content(text: str) -> None:
    with pytest.raises(InvalidRobots) as caught:
        parse_robots(text)
    # Nor in the traceback a start-up failure prints (a JSON error's chain holds the text).
    printed = "".join(traceback.format_exception(caught.value))
    assert "wecom-KEY-0001" not in printed


def test_plain_http_is_allowed_to_loopback_only() -> None:
    for host in ("127.0.0.1:8099", "localhost:8099", "[::1]:8099", "robots.localhost"):
        url = f"http://{host}/wecom/send?key=k"
        assert parse_robots(robots(t={"vendor": "wecom", "url": url})).has_robot("t")
    for host in ("10.0.0.8", "example.com", "169.254.169.254", "127.0.0.1.nip.io"):
        with pytest.raises(InvalidRobots, match="must use https"):
            parse_robots(robots(t={"vendor": "wecom", "url": f"http://{host}/send?key=k"}))


def test_repr_and_str_show_no_url_key_or_secret() -> None:
    directory = parse_robots(
        json.dumps(
            {
                "after-sales": {"vendor": "wecom", "url": WECOM_URL},
                "billing": {"vendor": "dingtalk", "url": DINGTALK_URL, "secret": SECRET},
                "*": {"vendor": "feishu", "url": FEISHU_URL, "secret": SECRET},
            }
        )
    )
    shown = [repr(directory), str(directory)]
    shown += [f"{robot!r} {robot!s}" for robot in directory.by_team.values()]
    shown.append(repr(directory.default))
    for text in shown:
        assert not any(credential in text for credential in CREDENTIALS), text
    assert "host='open.feishu.cn'" in repr(directory.default)
    assert "'after-sales'" in repr(directory)


def test_empty_directory_default() -> None:
    assert RobotDirectory().empty


@given(st.ip_addresses())
def test_loopback_hosts_are_the_loopback_addresses(address: object) -> None:
    import ipaddress

    assert isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    assert is_loopback_host(str(address)) == address.is_loopback
