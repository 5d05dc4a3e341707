"""The fake receivers accept what the vendors' documents describe and refuse the rest.

Requests are built by notify's real senders (its Alibaba Cloud provider and robot requests)
and by the ``standardwebhooks`` reference library, and go over real loopback HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import httpx
import pytest
from complaint_devinfra.fake_receivers import FakeReceivers, Recorder
from notify.robots.adapters import post as post_robot
from notify.robots.domain import dingtalk, feishu, wecom
from notify.robots.domain.notice import StaffNotice
from notify.sms.aliyun import AliyunSmsProvider
from notify.sms.domain.provider import Accepted, FailedForGood, RetryLater, SmsRequest, Unknown
from standardwebhooks import Webhook

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[FakeReceivers]:
    server = FakeReceivers(record=tmp_path / "rec").start()
    yield server
    server.stop()


def _sms(fakes: FakeReceivers, client: httpx.AsyncClient, *, forged: bool = False) -> Any:
    return AliyunSmsProvider(
        client=client,
        access_key_id="dev-access-key",
        access_key_secret="forged" if forged else "dev-secret",
        endpoint=f"{fakes.url}/sms/",
    )


def _request(out_id: str = "d-1") -> SmsRequest:
    return SmsRequest(
        phone_number="+8613812345678",
        sign_name="投诉平台",
        template_code="SMS_0001",
        template_params={"reference": "C-2026-000001", "name": "张 三&*~"},
        out_id=out_id,
    )


async def test_sms_signed_by_notify_is_accepted_and_recorded_masked(
    fakes: FakeReceivers, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        outcome = await _sms(fakes, client).send(_request())
        refused = await _sms(fakes, client, forged=True).send(_request("d-2"))
    assert isinstance(outcome, Accepted)
    assert outcome.biz_id
    assert isinstance(refused, FailedForGood)
    assert refused.code == "SignatureDoesNotMatch"
    accepted = [r for r in fakes.recorder.get("sms") if r["accepted"]]
    assert len(accepted) == 1
    assert accepted[0]["phones"] == ["138****5678"]
    assert accepted[0]["template_param"]["reference"] == "C-2026-000001"
    assert accepted[0]["out_id"] == "d-1"
    on_disk = (tmp_path / "rec" / "sms.jsonl").read_text(encoding="utf-8")
    assert "13812345678" not in on_disk
    assert len(on_disk.splitlines()) == 2


async def test_sms_faults_fail_retryably_refuse_the_template_and_time_out(
    fakes: FakeReceivers,
) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5, read=0.5)) as client:
        provider = _sms(fakes, client)
        fakes.control({"sms": {"fail_next": 2, "failure": "retry"}})
        assert isinstance(await provider.send(_request()), RetryLater)
        assert isinstance(await provider.send(_request()), RetryLater)
        assert isinstance(await provider.send(_request()), Accepted)
        fakes.control({"sms": {"fail_next": 1, "failure": "template"}})
        refused = await provider.send(_request())
        assert isinstance(refused, FailedForGood)
        assert refused.code == "isv.SMS_TEMPLATE_ILLEGAL"
        fakes.control({"sms": {"fail_next": 1, "failure": "timeout", "hang_s": 2}})
        assert isinstance(await provider.send(_request("d-late")), Unknown)
    # A timed-out send was taken: the sender must not repeat it.
    late = [r for r in fakes.recorder.get("sms") if r.get("out_id") == "d-late"]
    assert [r["accepted"] for r in late] == [True]


def test_a_replayed_nonce_is_refused(fakes: FakeReceivers) -> None:
    provider = AliyunSmsProvider(
        client=httpx.AsyncClient(),
        access_key_id="dev-access-key",
        access_key_secret="dev-secret",
        nonce=lambda: "same-nonce",
    )
    params = provider.signed_params(_request())
    first = httpx.post(f"{fakes.url}/sms/", data=params)
    again = httpx.post(f"{fakes.url}/sms/", data=params)
    assert first.json()["Code"] == "OK"
    assert again.json()["Code"] == "SignatureNonceUsed"


def _wait_until(probe: Callable[[], object], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe() and time.monotonic() < deadline:
        time.sleep(0.05)


class _ReceiptSink(BaseHTTPRequestHandler):
    received: list[Any] = []  # noqa: RUF012 - one test's sink

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_a_receipt_is_pushed_in_the_smsreport_shape(fakes: FakeReceivers) -> None:
    from notify.sms.domain.receipts import parse_aliyun_sms_report

    sink = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiptSink)
    Thread(target=sink.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{sink.server_address[1]}/receipts"
        fakes.control({"sms": {"receipt_url": url, "receipt_delay_s": 0}})
        async with httpx.AsyncClient(timeout=5) as client:
            await _sms(fakes, client).send(_request("d-r"))
        _wait_until(lambda: fakes.recorder.get("sms_receipt"))
    finally:
        sink.shutdown()
    (receipt,) = parse_aliyun_sms_report(json.dumps(_ReceiptSink.received[0]))
    assert receipt.success
    assert receipt.out_id == "d-r"
    assert receipt.phone_masked == "138****5678"
    assert fakes.recorder.get("sms_receipt")[0]["status"] == 200


NOTICE = StaffNotice(
    title="C-2026-000001 first response 75%",
    lines=("team billing",),
    case_url="http://127.0.0.1:8002/v1/cases/x",
    severity="warning",
)


async def test_robots_accept_each_vendors_signed_request_and_refuse_a_bad_sign(
    fakes: FakeReceivers,
) -> None:
    fakes.control({"robots": {"dingtalk_secret": "SECd", "feishu_secret": "fs"}})
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    requests = [
        wecom.build_request(f"{fakes.url}/robots/wecom/send?key=k", NOTICE),
        dingtalk.build_request(
            f"{fakes.url}/robots/dingtalk/send?access_token=t",
            NOTICE,
            secret="SECd",
            timestamp_ms=now_ms,
        ),
        feishu.build_request(
            f"{fakes.url}/robots/feishu/hook/tok", NOTICE, secret="fs", timestamp_s=now_ms // 1000
        ),
        dingtalk.build_request(
            f"{fakes.url}/robots/dingtalk/send?access_token=t",
            NOTICE,
            secret="wrong",
            timestamp_ms=now_ms,
        ),
        feishu.build_request(
            f"{fakes.url}/robots/feishu/hook/tok", NOTICE, secret="fs", timestamp_s=1
        ),
    ]
    async with httpx.AsyncClient() as client:
        outcomes = [await post_robot(client, r, timeout_s=5) for r in requests]
    recorded = fakes.recorder.get("robot")
    assert [(r["vendor"], r["accepted"]) for r in recorded] == [
        ("wecom", True),
        ("dingtalk", True),
        ("feishu", True),
        ("dingtalk", False),
        ("feishu", False),
    ]
    assert all(NOTICE.title in r["title"] for r in recorded[:3]), recorded
    assert [r["signed"] for r in recorded[:3]] == [None, True, True]
    assert [o.kind for o in outcomes][:3] == ["ok"] * 3, outcomes


def test_webhooks_verify_the_reference_librarys_signature_and_fail_on_request(
    fakes: FakeReceivers,
) -> None:
    fakes.control({"webhooks": {"crm": {"secret": SECRET}}})
    body = json.dumps({"type": "org.opencomplaints.complaint.received.v1", "id": "e1"})
    now = datetime.now(UTC)
    signature = Webhook(SECRET).sign("msg_1", now, body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    assert httpx.post(f"{fakes.url}/webhooks/crm", content=body, headers=headers).is_success
    forged = {**headers, "webhook-signature": "v1,AAAA"}
    assert httpx.post(f"{fakes.url}/webhooks/crm", content=body, headers=forged).is_success
    fakes.control({"webhooks": {"crm": {"fail_next": 1, "failure": "500"}}})
    assert httpx.post(f"{fakes.url}/webhooks/crm", content=body, headers=headers).status_code == 500
    recorded = httpx.get(f"{fakes.url}/recorded", params={"kind": "webhook"}).json()
    assert [(r["signature_ok"], r["accepted"]) for r in recorded] == [
        (True, True),
        (False, True),
        (True, False),
    ]
    assert recorded[0]["event_type"] == "org.opencomplaints.complaint.received.v1"
    # The recorded body and headers verify with the reference library too.
    Webhook(SECRET).verify(recorded[0]["body"], recorded[0]["headers"])


def test_records_are_bounded_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("complaint_devinfra.fake_receivers.KEEP", 5)
    recorder = Recorder(tmp_path)
    recorder._records["robot"] = type(recorder._records["robot"])(maxlen=5)
    for n in range(23):
        recorder.add("robot", {"n": n})
    lines = (tmp_path / "robot.jsonl").read_text().splitlines()
    assert len(lines) < 10
    assert json.loads(lines[-1])["n"] == 22
    assert [r["n"] for r in recorder.get("robot")] == [18, 19, 20, 21, 22]
