"""The robot sender against the loopback server playing WeCom, DingTalk and Feishu (it checks
each vendor's signature and fields): receipts, vendor errors, 5xx, timeouts, the team's robot
or the default one, the rate bound, and the settings that build it."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from notify.adapters.channels import SendError
from notify.adapters.outgoing import OutgoingRobotNotice
from notify.config import NotifySettings
from notify.robots.domain.directory import InvalidRobots, RobotDirectory, parse_robots
from notify.robots.domain.notice import StaffNotice, Vendor
from notify.robots.domain.ratebound import RateBound
from notify.robots.sender import RobotSender, make_robot_sender

from .conftest import DINGTALK_SECRET, DINGTALK_TOKEN, FEISHU_SECRET, WECOM_KEY, FakeRobots

NOTICE = StaffNotice(
    title="投诉 CMP-2026-000123 即将超时",
    lines=("团队: 售后",),
    case_url="https://console.example.com/cases/0196f7a2",
    severity="warning",
)


def notice_for(team: str) -> OutgoingRobotNotice:
    return OutgoingRobotNotice(
        delivery_id="d-1", complaint_id="c-1", team=team, template="sla_warning", notice=NOTICE
    )


def directory(fake: FakeRobots, **overrides: dict[str, str]) -> RobotDirectory:
    """after-sales on WeCom, billing on DingTalk (signed), logistics on Feishu (signed)."""
    entries = {
        "after-sales": {"vendor": "wecom", "url": f"{fake.base}/wecom/send?key={WECOM_KEY}"},
        "billing": {
            "vendor": "dingtalk",
            "url": f"{fake.base}/dingtalk/send?access_token={DINGTALK_TOKEN}",
            "secret": DINGTALK_SECRET,
        },
        "logistics": {
            "vendor": "feishu",
            "url": f"{fake.base}/feishu/hook/abc",
            "secret": FEISHU_SECRET,
        },
    }
    entries |= {team.replace("_", "-"): entry for team, entry in overrides.items()}
    return parse_robots(json.dumps(entries))


MakeSender = Callable[..., RobotSender]


@pytest.fixture
async def make_sender(fake_robots: FakeRobots) -> AsyncIterator[MakeSender]:
    senders: list[RobotSender] = []

    def make(
        robots: RobotDirectory | None = None,
        *,
        timeout_s: float = 5.0,
        bounds: dict[Vendor, tuple[RateBound, ...]] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> RobotSender:
        sender = RobotSender(
            robots or directory(fake_robots),
            timeout_s=timeout_s,
            # trust_env=False: a proxy from the environment must not catch loopback requests.
            client=httpx.AsyncClient(trust_env=False),
            # The fake vendors' clock: signatures are checked against it.
            clock=lambda: fake_robots.now_ms / 1000,
            bounds=bounds if bounds is not None else {},
            **({"monotonic": monotonic} if monotonic else {}),
        )
        senders.append(sender)
        return sender

    yield make
    for sender in senders:
        await sender.aclose()


@pytest.mark.parametrize(
    ("team", "path", "channel"),
    [
        ("after-sales", "/wecom/send", "wecom"),
        ("billing", "/dingtalk/send", "dingtalk"),
        ("logistics", "/feishu/hook/abc", "lark"),
    ],
)
async def test_each_vendor_takes_the_signed_notice(
    make_sender: MakeSender, fake_robots: FakeRobots, team: str, path: str, channel: str
) -> None:
    receipt = await make_sender().send(notice_for(team))
    assert (receipt.channel, receipt.provider_message_id) == (channel, None)
    ((received_path, body),) = fake_robots.received
    assert received_path.split("?")[0] == path
    assert "CMP-2026-000123" in json.dumps(body, ensure_ascii=False)


async def test_a_team_without_its_own_robot_uses_the_default(
    make_sender: MakeSender, fake_robots: FakeRobots
) -> None:
    default = {
        "vendor": "feishu",
        "url": f"{fake_robots.base}/feishu/hook/all",
        "secret": FEISHU_SECRET,
    }
    robots = directory(fake_robots, **{"*": default})
    sender = make_sender(robots)
    assert sender.has_robot("quality")
    assert sender.has_robot(None)
    assert (await sender.send(notice_for("quality"))).channel == "lark"
    assert (await sender.send(notice_for("after-sales"))).channel == "wecom"
    assert [path for path, _ in fake_robots.received] == [
        "/feishu/hook/all",
        f"/wecom/send?key={WECOM_KEY}",
    ]


async def test_a_team_without_a_robot_and_no_default_fails_for_good(
    make_sender: MakeSender, fake_robots: FakeRobots
) -> None:
    sender = make_sender()
    assert not sender.has_robot("quality")
    assert not sender.has_robot(None)
    with pytest.raises(SendError, match="no robot configured for team 'quality'") as caught:
        await sender.send(notice_for("quality"))
    assert (caught.value.retryable, caught.value.uncertain) == (False, False)
    assert fake_robots.received == []


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ({"vendor": "wecom", "url": "/wecom/send?key=wrong-key-123"}, "93000"),
        (
            {
                "vendor": "dingtalk",
                "url": f"/dingtalk/send?access_token={DINGTALK_TOKEN}",
                "secret": "SECwrong-secret-456",
            },
            "310000",
        ),
        ({"vendor": "feishu", "url": "/feishu/hook/abc", "secret": "wrong-secret-789"}, "19021"),
    ],
)
async def test_a_vendor_refusal_fails_for_good_without_credentials_in_the_error(
    make_sender: MakeSender, fake_robots: FakeRobots, entry: dict[str, str], code: str
) -> None:
    entry = entry | {"url": fake_robots.base + entry["url"]}
    with pytest.raises(SendError) as caught:
        await make_sender(directory(fake_robots, quality=entry)).send(notice_for("quality"))
    assert (caught.value.retryable, caught.value.uncertain) == (False, False)
    message = str(caught.value)
    assert f"code {code}" in message
    assert "team 'quality'" in message
    for credential in ("wrong-key-123", "wrong-secret-456", "wrong-secret-789", "/hook/abc"):
        assert credential not in message


@pytest.mark.parametrize(
    ("vendor", "answer"),
    [
        ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}),
        ("dingtalk", {"errcode": 130101, "errmsg": "send too fast"}),
        ("feishu", {"code": 11232, "msg": "frequency limited"}),
    ],
)
async def test_a_rate_limit_answer_is_retried(
    make_sender: MakeSender, fake_robots: FakeRobots, vendor: str, answer: dict[str, object]
) -> None:
    fake_robots.answers["/answer/200"] = json.dumps(answer).encode()
    entry = {"vendor": vendor, "url": f"{fake_robots.base}/answer/200?key=k&access_token=t"}
    with pytest.raises(SendError, match="rate_limited") as caught:
        await make_sender(directory(fake_robots, quality=entry)).send(notice_for("quality"))
    assert (caught.value.retryable, caught.value.uncertain) == (True, False)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_a_server_error_is_retried(
    make_sender: MakeSender, fake_robots: FakeRobots, status: int
) -> None:
    entry = {"vendor": "wecom", "url": f"{fake_robots.base}/answer/{status}?key=k"}
    with pytest.raises(SendError, match=f"HTTP {status}") as caught:
        await make_sender(directory(fake_robots, quality=entry)).send(notice_for("quality"))
    assert (caught.value.retryable, caught.value.uncertain) == (True, False)


@pytest.mark.parametrize("path", ["/hang", "/drip"])
async def test_a_timeout_after_sending_is_uncertain_not_retried(
    make_sender: MakeSender, fake_robots: FakeRobots, path: str
) -> None:
    entry = {"vendor": "dingtalk", "url": f"{fake_robots.base}{path}?access_token=t"}
    sender = make_sender(directory(fake_robots, quality=entry), timeout_s=0.3)
    with pytest.raises(SendError, match="may have been posted") as caught:
        await sender.send(notice_for("quality"))
    assert (caught.value.retryable, caught.value.uncertain) == (False, True)
    assert len(fake_robots.received) == 1  # it did arrive: a repeat would post it twice


async def test_a_refused_connection_sent_nothing_and_is_retried(
    make_sender: MakeSender, fake_robots: FakeRobots
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    entry = {"vendor": "wecom", "url": f"http://127.0.0.1:{port}/send?key=k"}
    with pytest.raises(SendError, match="connection") as caught:
        await make_sender(directory(fake_robots, quality=entry)).send(notice_for("quality"))
    assert (caught.value.retryable, caught.value.uncertain) == (True, False)


async def test_the_rate_bound_defers_without_posting(
    make_sender: MakeSender, fake_robots: FakeRobots
) -> None:
    now = [100.0]
    shared = {"vendor": "wecom", "url": f"{fake_robots.base}/wecom/send?key={WECOM_KEY}"}
    sender = make_sender(
        # Two teams on one robot share its bound.
        directory(fake_robots, quality=shared),
        bounds={"wecom": (RateBound(2, 60.0),)},
        monotonic=lambda: now[0],
    )
    await sender.send(notice_for("after-sales"))
    await sender.send(notice_for("quality"))
    with pytest.raises(SendError, match="rate bound") as caught:
        await sender.send(notice_for("after-sales"))
    assert (caught.value.retryable, caught.value.uncertain) == (True, False)
    assert len(fake_robots.received) == 2
    # Other robots are not held back by it.
    assert (await sender.send(notice_for("billing"))).channel == "dingtalk"
    now[0] += 60.0
    assert (await sender.send(notice_for("after-sales"))).channel == "wecom"
    assert len(fake_robots.received) == 4


async def test_the_documented_vendor_bound_applies_by_default(fake_robots: FakeRobots) -> None:
    now = [0.0]
    sender = RobotSender(
        directory(fake_robots),
        timeout_s=5.0,
        client=httpx.AsyncClient(trust_env=False),
        clock=lambda: fake_robots.now_ms / 1000,
        monotonic=lambda: now[0],
    )
    try:
        for _ in range(20):  # WeCom: 20 a minute
            await sender.send(notice_for("after-sales"))
            now[0] += 1.0
        with pytest.raises(SendError, match="20 per 60 s"):
            await sender.send(notice_for("after-sales"))
    finally:
        await sender.aclose()


def test_make_robot_sender_is_none_without_robots() -> None:
    assert make_robot_sender(NotifySettings()) is None
    assert make_robot_sender(NotifySettings(notify_robots="{}")) is None


async def test_make_robot_sender_from_inline_json_or_a_file(tmp_path: Path) -> None:
    text = json.dumps(
        {"*": {"vendor": "wecom", "url": f"https://robot.example/send?key={WECOM_KEY}"}}
    )
    path = tmp_path / "robots.json"
    path.write_text(text, encoding="utf-8")
    for value in (text, str(path)):
        settings = NotifySettings(notify_robots=value, notify_robot_timeout_s=2.5)
        sender = make_robot_sender(settings)
        assert sender is not None
        assert sender.has_robot("any-team")
        await sender.aclose()
    # The settings' repr does not show the robots' keys.
    assert WECOM_KEY not in repr(NotifySettings(notify_robots=text))


def test_make_robot_sender_refuses_a_bad_entry_at_start_up() -> None:
    bad = json.dumps({"billing": {"vendor": "dingtalk", "url": "https://x.example/send"}})
    with pytest.raises(InvalidRobots, match="team 'billing': a dingtalk url needs"):
        make_robot_sender(NotifySettings(notify_robots=bad))
