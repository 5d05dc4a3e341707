"""The adapter against a loopback server playing the vendors: ok, vendor errors, 500, a hang,
an answer that cannot be decoded."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from notify.robots.adapters import post
from notify.robots.domain import dingtalk, feishu, wecom
from notify.robots.domain.notice import RobotRequest, StaffNotice

from .conftest import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    FEISHU_SECRET,
    WECOM_KEY,
    FakeRobots,
)

NOTICE = StaffNotice(
    title="投诉 CMP-2026-000123 即将超时",
    lines=("团队: 售后",),
    case_url="https://console.example.com/cases/0196f7a2",
    severity="warning",
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy from the environment must not catch loopback requests.
    async with httpx.AsyncClient(trust_env=False) as c:
        yield c


async def test_wecom_ok(client: httpx.AsyncClient, fake_robots: FakeRobots) -> None:
    request = wecom.build_request(f"{fake_robots.base}/wecom/send?key={WECOM_KEY}", NOTICE)
    outcome = await post(client, request, timeout_s=5)
    assert (outcome.kind, outcome.vendor_code) == ("ok", 0)
    ((_, body),) = fake_robots.received
    assert body == request.body  # the JSON arrived as built, Chinese text included


async def test_wecom_wrong_key_fails_for_good(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    request = wecom.build_request(f"{fake_robots.base}/wecom/send?key=wrong", NOTICE)
    outcome = await post(client, request, timeout_s=5)
    assert (outcome.kind, outcome.reason, outcome.vendor_code) == ("failed", "bad_key", 93000)


async def test_dingtalk_signed_ok_and_wrong_secret_failed(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    hook = f"{fake_robots.base}/dingtalk/send?access_token={DINGTALK_TOKEN}"
    good = dingtalk.build_request(
        hook, NOTICE, secret=DINGTALK_SECRET, timestamp_ms=fake_robots.now_ms
    )
    bad = dingtalk.build_request(hook, NOTICE, secret="wrong", timestamp_ms=fake_robots.now_ms)
    assert (await post(client, good, timeout_s=5)).kind == "ok"
    outcome = await post(client, bad, timeout_s=5)
    assert (outcome.kind, outcome.vendor_code, outcome.detail) == (
        "failed",
        310000,
        "sign not match",
    )


async def test_feishu_signed_card_ok_and_stale_timestamp_failed(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    hook = f"{fake_robots.base}/feishu/hook/abc"
    now_s = fake_robots.now_ms // 1000
    good = feishu.build_request(hook, NOTICE, secret=FEISHU_SECRET, timestamp_s=now_s)
    stale = feishu.build_request(hook, NOTICE, secret=FEISHU_SECRET, timestamp_s=now_s - 7200)
    assert (await post(client, good, timeout_s=5)).kind == "ok"
    outcome = await post(client, stale, timeout_s=5)
    assert (outcome.kind, outcome.reason) == ("failed", "bad_signature")


async def test_a_rate_limit_errcode_is_retried(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    fake_robots.answers["/answer/200"] = json.dumps(
        {"errcode": 45009, "errmsg": "api freq out of limit"}
    ).encode()
    request = RobotRequest(
        vendor="wecom", url=f"{fake_robots.base}/answer/200", body={"msgtype": "markdown"}
    )
    outcome = await post(client, request, timeout_s=5)
    assert (outcome.kind, outcome.reason) == ("retry", "rate_limited")


async def test_a_500_is_retried(client: httpx.AsyncClient, fake_robots: FakeRobots) -> None:
    request = RobotRequest(vendor="dingtalk", url=f"{fake_robots.base}/answer/500", body={})
    outcome = await post(client, request, timeout_s=5)
    assert (outcome.kind, outcome.reason, outcome.http_status) == ("retry", "server_error", 500)


async def test_a_hang_is_a_timeout_that_may_have_been_delivered(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    request = RobotRequest(
        vendor="feishu", url=f"{fake_robots.base}/hang", body={"msg_type": "text"}
    )
    outcome = await post(client, request, timeout_s=0.2)
    assert (outcome.kind, outcome.reason, outcome.maybe_delivered) == ("retry", "timeout", True)
    assert len(fake_robots.received) == 1  # it did reach the robot


async def test_a_dripping_answer_is_cut_off_by_the_whole_call_timeout(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    request = RobotRequest(vendor="wecom", url=f"{fake_robots.base}/drip", body={})
    outcome = await post(client, request, timeout_s=0.5)
    assert (outcome.kind, outcome.reason, outcome.maybe_delivered) == ("retry", "timeout", True)


async def test_an_answer_that_cannot_be_decoded_may_have_been_delivered(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    # httpx's DecodingError is a RequestError, not a TransportError: it must not escape,
    # and the robot took the post, so neither a plain retry nor a refusal.
    request = RobotRequest(vendor="wecom", url=f"{fake_robots.base}/gzip", body={})
    outcome = await post(client, request, timeout_s=5)
    assert (outcome.kind, outcome.maybe_delivered) == ("retry", True)
    assert len(fake_robots.received) == 1


async def test_a_broken_string_in_the_notice_is_still_sent(
    client: httpx.AsyncClient, fake_robots: FakeRobots
) -> None:
    # A lone surrogate (a broken decode upstream) cannot be encoded as UTF-8 as it is.
    notice = StaffNotice(title="bad \ud800 name", lines=("x\udfff",), case_url=NOTICE.case_url)
    request = wecom.build_request(f"{fake_robots.base}/wecom/send?key={WECOM_KEY}", notice)
    assert (await post(client, request, timeout_s=5)).kind == "ok"


async def test_a_refused_connection_is_retried_and_certainly_not_delivered(
    client: httpx.AsyncClient,
) -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = RobotRequest(vendor="wecom", url=f"http://127.0.0.1:{port}/x", body={})
    outcome = await post(client, request, timeout_s=5)
    assert (outcome.kind, outcome.reason, outcome.maybe_delivered) == (
        "retry",
        "connection",
        False,
    )
