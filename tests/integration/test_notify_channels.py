"""notify's other channels against the fake receivers (`complaint_devinfra.fake_receivers`,
run as the process `make up` runs): a phone-only customer's SMS and its delivery receipt,
the team robot's signed cards, Standard Webhooks verified with the spec's own library,
nothing sent twice across a SIGKILL in a retry storm, and nothing given up while intake is
down for longer than the retry window.

The module restarts the suite's notify with these channels configured (and puts it back at
the end), so the rest of the suite keeps its e-mail-only notify.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import ROOT, ServiceProcess, free_port, wait_for
from notify.messages.domain.planning import TEMPLATES
from standardwebhooks import Webhook

from conftest import Platform, agent_id

SMS_CODES = {name: f"SMS_{n:04d}" for n, name in enumerate(TEMPLATES, start=1)}
ACCESS_KEY_ID = "LTAItest" + secrets.token_hex(4)
ACCESS_KEY_SECRET = secrets.token_urlsafe(24)
CALLBACK_TOKEN = secrets.token_urlsafe(32)
DINGTALK_SECRET = "SEC" + secrets.token_hex(24)
FEISHU_SECRET = secrets.token_urlsafe(24)
# Every other team's notices go to the DingTalk robot; these two show the other vendors.
FEISHU_TEAM, WECOM_TEAM = "quality", "billing"
HAZARD = "刚装的热水器洗澡时漏电，家里有老人孩子，非常危险，请马上派人处理。"
FINAL = {"sent", "uncertain", "failed", "skipped", "logged"}
STORM_CODE = "isv.BUSINESS_LIMIT_CONTROL"  # the fake's retryable refusal (throttling)


class Fakes:
    """The fake receivers as a process, and its control and records over HTTP."""

    def __init__(self, record: Path, receipt_url: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {
            **os.environ,
            "FAKE_SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "FAKE_SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
            "FAKE_SMS_RECEIPT_URL": receipt_url,
            "FAKE_DINGTALK_SECRET": DINGTALK_SECRET,
            "FAKE_FEISHU_SECRET": FEISHU_SECRET,
        }
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "complaint_devinfra.fake_receivers", "--port", port,
             "--record", str(record)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._ready, timeout_s=20, what="the fake receivers")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def control(self, change: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/control", json=change, timeout=5).raise_for_status()

    def recorded(self, kind: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/recorded", params={"kind": kind}, timeout=5)
        records: list[dict[str, Any]] = answer.json()
        return records

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _channel_env(fakes: Fakes) -> dict[str, str]:
    robots = {
        "*": {
            "vendor": "dingtalk",
            "url": f"{fakes.url}/robots/dingtalk/send?access_token=team",
            "secret": DINGTALK_SECRET,
        },
        FEISHU_TEAM: {
            "vendor": "feishu",
            "url": f"{fakes.url}/robots/feishu/hook/team",
            "secret": FEISHU_SECRET,
        },
        WECOM_TEAM: {"vendor": "wecom", "url": f"{fakes.url}/robots/wecom/send?key=team"},
    }
    return {
        "NOTIFY_SMS_PROVIDER": "aliyun",
        "NOTIFY_SMS_ENDPOINT": f"{fakes.url}/sms/",
        "NOTIFY_SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "NOTIFY_SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "NOTIFY_SMS_SIGN_NAME": "投诉平台",
        "NOTIFY_SMS_TEMPLATES": json.dumps(SMS_CODES),
        "NOTIFY_SMS_CALLBACK_TOKEN": CALLBACK_TOKEN,
        "NOTIFY_SMS_TIMEOUT_S": "2",
        "NOTIFY_ROBOTS": json.dumps(robots),
        "NOTIFY_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "NOTIFY_WEBHOOK_TIMEOUT_S": "2",
        "NOTIFY_WEBHOOK_SENDING_LEASE_S": "3",
        "NOTIFY_WEBHOOK_RETRY_BASE_S": "0.2",
        "NOTIFY_WEBHOOK_RETRY_CAP_S": "1",
        "NOTIFY_WEBHOOK_POLL_INTERVAL_S": "0.2",
        "NOTIFY_WEBHOOK_BREAKER_COOL_DOWN_S": "0.5",
        # The suite runs at any hour: no SMS may wait for the end of the night here.
        "NOTIFY_QUIET_HOURS": "",
        "NOTIFY_RETRY_BACKOFF_S": "0.2",
        "NOTIFY_RETRY_BACKOFF_MAX_S": "1",
        "NOTIFY_RETRY_WINDOW_S": "60",
        "NOTIFY_DEPENDENCY_RETRY_MAX_S": "1",
    }


def _restart(service: ServiceProcess, env: dict[str, str]) -> None:
    service.stop()
    service.env = env
    service.start()


@pytest.fixture(scope="module")
def channels(
    platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """notify with SMS, robots and webhooks pointed at the fakes, and one webhook
    subscription to every event; afterwards the subscription is gone and notify as it was."""
    notify = platform.services["notify"]
    receipts = f"{notify.url}/v1/sms/receipts?token={CALLBACK_TOKEN}"
    fakes = Fakes(tmp_path_factory.mktemp("outbox"), receipts)
    original = dict(notify.env)
    subscription: str | None = None
    try:
        _restart(notify, {**original, **_channel_env(fakes)})
        with platform.staff_client("notify", "admin-channels", ["admin"]) as admin:
            created = admin.post(
                "/v1/webhooks", json={"url": f"{fakes.url}/webhooks/crm", "events": ["*"]}
            )
        assert created.status_code == 201, created.text
        subscription, secret = created.json()["id"], created.json()["secret"]
        assert secret.startswith("whsec_")
        fakes.control({"webhooks": {"crm": {"secret": secret}}})
        yield {"fakes": fakes, "secret": secret, "env": dict(notify.env)}
    finally:
        if subscription is not None:
            with platform.staff_client("notify", "admin-channels", ["admin"]) as admin:
                admin.delete(f"/v1/webhooks/{subscription}")
        _restart(notify, original)
        fakes.stop()


def _phone() -> str:
    return f"+86137{secrets.randbelow(10**8):08d}"


def _post(platform: Platform, customer: dict[str, Any], description: str) -> dict[str, Any]:
    body = {"channel": "phone", "customer": customer, "subject": "投诉", "description": description}
    with platform.client() as client:
        answer = client.post("/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    posted: dict[str, Any] = answer.json()
    return posted


def _phone_only(platform: Platform, description: str = "快递三天没有更新物流信息。") -> str:
    customer = {
        "external_ref": f"sms-{secrets.token_hex(4)}",
        "phone": _phone(),
        "preferred_channel": "sms",
        "language": "zh-CN",
    }
    return str(_post(platform, customer, description)["id"])


def _deliveries(platform: Platform, complaint_id: str) -> list[dict[str, Any]]:
    with platform.staff_client("notify", "manager-channels", ["manager"]) as manager:
        answer = manager.get("/v1/deliveries", params={"complaint_id": complaint_id})
    assert answer.status_code == 200, answer.text
    deliveries: list[dict[str, Any]] = answer.json()["deliveries"]
    return deliveries


def _acknowledgement(platform: Platform, complaint_id: str) -> dict[str, Any] | None:
    for delivery in _deliveries(platform, complaint_id):
        if delivery["template"] == "acknowledgement" and delivery["recipient_role"] == "customer":
            return delivery
    return None


def _accepted_sms(fakes: Fakes, out_id: str) -> list[dict[str, Any]]:
    return [r for r in fakes.recorded("sms") if r.get("out_id") == out_id and r["accepted"]]


def test_a_phone_only_customer_gets_the_acknowledgement_by_sms_with_a_receipt(
    platform: Platform, channels: dict[str, Any]
) -> None:
    fakes: Fakes = channels["fakes"]
    complaint_id = _phone_only(platform)

    def receipted() -> dict[str, Any] | None:
        ack = _acknowledgement(platform, complaint_id)
        return ack if ack and ack.get("receipt_status") == "delivered" else None

    ack = wait_for(receipted, timeout_s=60, what="the acknowledgement's delivery receipt")
    assert ack["channel"] == "sms", ack
    assert ack["status"] == "sent", ack
    [sms] = _accepted_sms(fakes, ack["delivery_id"])
    assert sms["template_code"] == SMS_CODES["acknowledgement"]
    assert sms["sign_name"] == "投诉平台"
    assert sms["phones"][0].startswith("137****")  # recorded masked by the fake
    [receipt] = [r for r in fakes.recorded("sms_receipt") if r["out_id"] == ack["delivery_id"]]
    assert receipt["status"] == 200


def test_the_teams_robot_gets_signed_assignment_and_sla_cards(
    platform: Platform, channels: dict[str, Any]
) -> None:
    fakes: Fakes = channels["fakes"]
    customer = {"external_ref": f"robot-{secrets.token_hex(4)}", "email": "robot@example.com"}
    posted = _post(platform, {**customer, "language": "zh-CN"}, HAZARD)
    reference = posted["reference"]
    with platform.client() as client:
        view = wait_for(
            lambda: (v := client.get(f"/v1/complaints/{posted['id']}").json())["team"] and v,
            what="the assignment",
        )
    vendor = {FEISHU_TEAM: "feishu", WECOM_TEAM: "wecom"}.get(view["team"], "dingtalk")

    def cards() -> list[dict[str, Any]]:
        return [r for r in fakes.recorded("robot") if reference in r.get("text", "")]

    # The assignment and, the P1 clock running in seconds here, at least one SLA warning.
    found = wait_for(lambda: len(cards()) >= 2 and cards(), timeout_s=60, what="two cards")
    assert {card["vendor"] for card in found} == {vendor}, found
    assert all(card["accepted"] for card in found), found
    assert all(card["signed"] is (None if vendor == "wecom" else True) for card in found)


def _webhooks_of(fakes: Fakes, complaint_id: str) -> list[dict[str, Any]]:
    return [r for r in fakes.recorded("webhook") if complaint_id in r["body"]]


def test_webhooks_carry_valid_standard_webhooks_signatures(
    platform: Platform, channels: dict[str, Any]
) -> None:
    fakes: Fakes = channels["fakes"]
    customer = {"external_ref": f"hook-{secrets.token_hex(4)}", "email": "hook@example.com"}
    complaint_id = _post(platform, {**customer, "language": "en"}, "The parcel never came.")["id"]
    received = wait_for(
        lambda: len(_webhooks_of(fakes, complaint_id)) >= 2 and _webhooks_of(fakes, complaint_id),
        timeout_s=60,
        what="webhooks of the complaint's events",
    )
    receiver = Webhook(channels["secret"])
    for record in received:
        event = receiver.verify(record["body"], record["headers"])  # the spec's own library
        assert event["type"].startswith("org.opencomplaints."), event
        assert record["signature_ok"] is True, record
    types = {r["event_type"] for r in received}
    assert any(t.startswith("org.opencomplaints.complaint.received") for t in types), types


def test_a_send_that_times_out_is_uncertain_and_never_repeated(
    platform: Platform, channels: dict[str, Any]
) -> None:
    fakes: Fakes = channels["fakes"]
    # The provider takes the SMS but answers after notify's timeout; the webhook receiver
    # hangs past notify's timeout twice.
    before = len(fakes.recorded("webhook"))
    fakes.control(
        {
            "sms": {"fail_next": 1, "failure": "timeout", "hang_s": 5},
            "webhooks": {"crm": {"fail_next": 2, "failure": "hang", "hang_s": 3}},
        }
    )
    complaint_id = _phone_only(platform)
    ack = wait_for(
        lambda: (a := _acknowledgement(platform, complaint_id)) and a["status"] in FINAL and a,
        timeout_s=60,
        what="the acknowledgement settled",
    )
    assert ack["status"] == "uncertain", ack
    time.sleep(3)  # a resend would show up now
    assert len(_accepted_sms(fakes, ack["delivery_id"])) == 1
    # (The hung ones may be another complaint's: earlier tests' clocks still fire.)
    hung = [r for r in fakes.recorded("webhook")[before:] if r["status"] == 504]
    assert len(hung) == 2, hung
    wait_for(
        lambda: any(r["accepted"] for r in _webhooks_of(fakes, complaint_id)),
        timeout_s=30,
        what="the complaint's other webhooks delivered",
    )
    hooks = Counter(r["headers"]["webhook-id"] for r in fakes.recorded("webhook") if r["accepted"])
    assert all(n == 1 for n in hooks.values()), hooks


def test_sigkill_in_a_retry_storm_sends_nothing_twice(
    platform: Platform, channels: dict[str, Any]
) -> None:
    fakes: Fakes = channels["fakes"]
    notify = platform.services["notify"]
    started = len(fakes.recorded("sms"))
    # The provider throttles and the receiver fails for a while: many retries in flight.
    fakes.control(
        {
            "sms": {"fail_next": 8, "failure": "retry"},
            "webhooks": {"crm": {"fail_next": 10, "failure": "500"}},
        }
    )
    complaints = [_phone_only(platform) for _ in range(3)]
    wait_for(
        lambda: sum(not r["accepted"] for r in fakes.recorded("sms")[started:]) >= 3,
        timeout_s=60,
        what="the storm under way",
    )
    notify.kill()
    time.sleep(3.5)  # past the sending leases: the restarted notify settles what was in flight
    notify.start()

    def settled() -> list[dict[str, Any]] | None:
        rows = [d for c in complaints for d in _deliveries(platform, c)]
        acks = [d for d in rows if d["template"] == "acknowledgement"]
        done = len(acks) == len(complaints) and all(d["status"] in FINAL for d in rows)
        return rows if done else None

    rows = wait_for(settled, timeout_s=90, interval_s=0.5, what="every delivery settled")
    assert all(d["status"] in {"sent", "uncertain"} for d in rows), rows
    # Every request was well-formed and correctly signed, retries with a fresh nonce.
    refused = [r for r in fakes.recorded("sms") if r["code"] not in ("OK", STORM_CODE)]
    assert not refused, refused
    accepted = Counter(r["out_id"] for r in fakes.recorded("sms") if r["accepted"])
    assert all(n == 1 for n in accepted.values()), accepted
    for ack in (d for d in rows if d["template"] == "acknowledgement"):
        # An uncertain one may have been cut short before its channel was chosen.
        if ack["status"] == "sent":
            assert ack["channel"] == "sms", ack
            assert accepted[ack["delivery_id"]] == 1, ack
    hooks = Counter(r["headers"]["webhook-id"] for r in fakes.recorded("webhook") if r["accepted"])
    assert all(n == 1 for n in hooks.values()), hooks
    for complaint_id in complaints:
        wait_for(
            lambda c=complaint_id: any(r["accepted"] for r in _webhooks_of(fakes, c)),
            timeout_s=60,
            what="the complaint's webhooks after the storm",
        )


def test_intake_down_longer_than_the_retry_window_deliveries_wait(
    platform: Platform, channels: dict[str, Any]
) -> None:
    fakes: Fakes = channels["fakes"]
    notify, intake = platform.services["notify"], platform.intake
    window_s = 3.0
    _restart(notify, {**channels["env"], "NOTIFY_RETRY_WINDOW_S": str(window_s)})
    complaint_id = _phone_only(platform)
    wait_for(
        lambda: (a := _acknowledgement(platform, complaint_id)) and a["status"] == "sent",
        timeout_s=60,
        what="the acknowledgement",
    )
    with platform.client() as client:
        team = client.get(f"/v1/complaints/{complaint_id}").json()["team"]
    intake.stop()
    try:
        with platform.staff_client("routing", agent_id(team), ["agent"]) as agent:
            answered = agent.post(
                f"/v1/cases/{complaint_id}/first-response", json={"message": "已安排快递员联系您。"}
            )
        assert answered.status_code == 200, answered.text

        def reply() -> dict[str, Any] | None:
            return next(
                (d for d in _deliveries(platform, complaint_id) if d["template"] == "agent_reply"),
                None,
            )

        waiting = wait_for(reply, timeout_s=30, what="the answer's delivery planned")
        time.sleep(window_s * 2.5)  # well past the retry window, intake still down
        waiting = reply() or waiting
        assert waiting["status"] == "pending", waiting
        assert "intake" in (waiting["last_error"] or ""), waiting  # tried, and waiting
        assert not _accepted_sms(fakes, waiting["delivery_id"])
    finally:
        intake.start()
    sent = wait_for(
        lambda: (d := reply()) and d["status"] == "sent" and d,
        timeout_s=60,
        what="the answer sent after intake returned",
    )
    assert sent["channel"] == "sms", sent
    assert len(_accepted_sms(fakes, sent["delivery_id"])) == 1
