"""Fake receivers of notify's outgoing channels, for `make up` and the integration tests.

``python -m complaint_devinfra.fake_receivers --port P --record DIR`` serves on 127.0.0.1:

=================================== ======================================================
``POST /sms/``                      Alibaba Cloud ``SendSms`` (form body or query): shape and
                                    signature checked, ``{"Code": "OK", "BizId": ...}``; then,
                                    with a receipt URL, an ``SmsReport`` push to it
``POST /robots/wecom/send?key=``    WeCom group robot
``POST /robots/dingtalk/send?...``  DingTalk custom robot (``timestamp``/``sign`` checked
                                    when the secret is known)
``POST /robots/feishu/hook/<t>``    Feishu custom bot (body ``timestamp``/``sign`` checked
                                    when the secret is known)
``POST /webhooks/<name>``           a webhook receiver: headers and body recorded, the
                                    Standard Webhooks signature checked when its secret is set
``POST /control``                   settings and faults (below)
``GET /recorded?kind=``             what was recorded (``sms``, ``sms_receipt``, ``robot``,
                                    ``webhook``), oldest first
``GET /healthz``                    ``{"status": "ok"}``
=================================== ======================================================

``/control`` takes a JSON object and merges it into the settings::

    {"sms": {"access_key_id", "access_key_secret", "receipt_url", "receipt": "delivered" |
             "failed" | "none", "receipt_delay_s", "fail_next": N,
             "failure": "retry" | "timeout" | "template" | "http500", "hang_s"},
     "robots": {"wecom_key", "dingtalk_secret", "feishu_secret"},
     "webhooks": {"<name>": {"secret": "whsec_...", "fail_next": N,
                             "failure": "500" | "hang", "hang_s"}}}

A ``timeout`` SMS failure *accepts* the message and answers only after ``hang_s``: the sender
cannot know it went out (the case a sender must report as uncertain, not repeat). Secrets can
also come from the environment (``FAKE_SMS_ACCESS_KEY_ID``, ``FAKE_SMS_ACCESS_KEY_SECRET``,
``FAKE_DINGTALK_SECRET``, ``FAKE_FEISHU_SECRET``), never from the command line (``ps`` shows
it). Each record is one JSON line in ``DIR/<kind>.jsonl``; a file is cut back to the newest
:data:`KEEP` records when it reaches twice that. Phone numbers are recorded masked.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from complaint_devinfra._fake_vendors import (
    Verdict,
    check_dingtalk,
    check_feishu,
    check_send_sms,
    check_wecom,
    verify_standard_webhook,
)

KEEP: Final = 1000
MAX_BODY: Final = 1 << 20
KINDS: Final = ("sms", "sms_receipt", "robot", "webhook")
CHINA: Final = timezone(timedelta(hours=8))  # receipts carry mainland-China times
RECEIPT_TRIES: Final = 30  # the receipt push is retried while notify is down (~1 min)


class Recorder:
    """Records per kind: the newest :data:`KEEP` in memory, and as JSON lines in a file."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._records: dict[str, deque[dict[str, Any]]] = {k: deque(maxlen=KEEP) for k in KINDS}
        self._lines: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._seq = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def add(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            record = {"kind": kind, "seq": self._seq, "at": _now_iso(), **record}
            self._records[kind].append(record)
            self._write(kind, record)
        return record

    def _write(self, kind: str, record: dict[str, Any]) -> None:
        if self._directory is None:
            return
        path = self._directory / f"{kind}.jsonl"
        self._lines[kind] += 1
        if self._lines[kind] >= 2 * KEEP:
            # Bounded: the file keeps what memory keeps (this record included).
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self._records[kind])
            path.write_text(lines, encoding="utf-8")
            self._lines[kind] = len(self._records[kind])
            return
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def get(self, kind: str | None) -> list[dict[str, Any]]:
        with self._lock:
            kinds = [kind] if kind else list(KINDS)
            found = [r for k in kinds for r in self._records.get(k, ())]
        return sorted(found, key=lambda r: int(r["seq"]))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FakeReceivers:
    """The server and its settings; :meth:`start` serves in a thread, :meth:`serve` in this
    one. Settings change only under ``lock`` (requests are served on several threads)."""

    def __init__(self, *, port: int = 0, record: Path | None = None) -> None:
        self.lock = threading.Lock()
        self.recorder = Recorder(record)
        self.sms: dict[str, Any] = {
            "access_key_id": os.environ.get("FAKE_SMS_ACCESS_KEY_ID", "dev-access-key"),
            "access_key_secret": os.environ.get("FAKE_SMS_ACCESS_KEY_SECRET", "dev-secret"),
            "receipt_url": os.environ.get("FAKE_SMS_RECEIPT_URL", ""),
            "receipt": "delivered",
            "receipt_delay_s": 0.5,
            "fail_next": 0,
            "failure": "retry",
            "hang_s": 30.0,
        }
        self.robots: dict[str, Any] = {
            "wecom_key": None,
            "dingtalk_secret": os.environ.get("FAKE_DINGTALK_SECRET") or None,
            "feishu_secret": os.environ.get("FAKE_FEISHU_SECRET") or None,
        }
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.nonces: deque[str] = deque(maxlen=10 * KEEP)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.fakes = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeReceivers:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def control(self, change: Mapping[str, Any]) -> None:
        """Merge ``change`` (the shape of the module docstring) into the settings."""
        with self.lock:
            self.sms.update(change.get("sms") or {})
            self.robots.update(change.get("robots") or {})
            for name, settings in (change.get("webhooks") or {}).items():
                self.webhooks.setdefault(str(name), {}).update(settings)

    def take_fault(self, settings: dict[str, Any]) -> str | None:
        """The next fault of ``settings`` (counted down), or None: answer normally."""
        with self.lock:
            if int(settings.get("fail_next") or 0) <= 0:
                return None
            settings["fail_next"] = int(settings["fail_next"]) - 1
            return str(settings.get("failure") or "")

    # ---- SMS ---------------------------------------------------------------------------

    def send_sms(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            key_id, key_secret = self.sms["access_key_id"], self.sms["access_key_secret"]
        verdict = check_send_sms(method, params, access_key_id=key_id, access_key_secret=key_secret)
        if verdict.error is None:
            with self.lock:
                replayed = verdict.facts["nonce"] in self.nonces
                self.nonces.append(verdict.facts["nonce"])
            if replayed:
                verdict = Verdict("SignatureNonceUsed", {"Code": "SignatureNonceUsed"}, {})
        if verdict.error is not None:
            refused = {"accepted": False, "code": verdict.answer["Code"], "error": verdict.error}
            self.recorder.add("sms", refused)
            return 400, verdict.answer
        facts = {k: v for k, v in verdict.facts.items() if k != "nonce"}
        fault = self.take_fault(self.sms)
        if fault in ("retry", "template", "http500"):
            code = {
                "retry": "isv.BUSINESS_LIMIT_CONTROL",
                "template": "isv.SMS_TEMPLATE_ILLEGAL",
                "http500": "InternalError",
            }[fault]
            self.recorder.add("sms", {**facts, "accepted": False, "code": code})
            return (500 if fault == "http500" else 200), {"Code": code, "Message": fault}
        biz_id = f"{secrets.randbelow(10**15):015d}^0"
        self.recorder.add("sms", {**facts, "accepted": True, "code": "OK", "biz_id": biz_id})
        self._schedule_receipt(params, biz_id)
        if fault == "timeout":
            time.sleep(float(self.sms["hang_s"]))  # accepted, but the answer comes too late
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": biz_id}

    def _schedule_receipt(self, params: Mapping[str, str], biz_id: str) -> None:
        with self.lock:
            url, kind = str(self.sms["receipt_url"]), str(self.sms["receipt"])
            delay = float(self.sms["receipt_delay_s"])
        if not url or kind == "none":
            return
        sent = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        reports = [
            {
                "phone_number": number,
                "send_time": sent,
                "report_time": sent,
                "success": kind == "delivered",
                "err_code": "DELIVERED" if kind == "delivered" else "MK:0001",
                "err_msg": "用户接收成功" if kind == "delivered" else "failed",
                "sms_size": "1",
                "biz_id": biz_id,
                "out_id": params.get("OutId", ""),
            }
            for number in params["PhoneNumbers"].split(",")
        ]
        body = json.dumps(reports, ensure_ascii=False).encode()
        threading.Thread(
            target=self._push_receipt,
            args=(url, body, biz_id, params.get("OutId"), delay),
            daemon=True,
        ).start()

    def _push_receipt(
        self, url: str, body: bytes, biz_id: str, out_id: str | None, delay: float
    ) -> None:
        time.sleep(delay)
        status: int | str = "not sent"
        for attempt in range(RECEIPT_TRIES):
            request = urllib.request.Request(  # noqa: S310 - the configured callback URL
                url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    status = int(response.status)
                    break
            except urllib.error.HTTPError as exc:
                status = int(exc.code)
                if exc.code < 500:
                    break  # refused for good: a provider stops too
            except OSError as exc:
                status = type(exc).__name__
            time.sleep(min(0.5 * 2**attempt, 5.0))
        self.recorder.add("sms_receipt", {"biz_id": biz_id, "out_id": out_id, "status": status})

    # ---- robots and webhooks -----------------------------------------------------------

    def robot(self, vendor: str, verdict: Verdict) -> tuple[int, dict[str, Any]]:
        self.recorder.add(
            "robot",
            {
                "vendor": vendor,
                "accepted": verdict.error is None,
                "error": verdict.error,
                **verdict.facts,
            },
        )
        return 200, verdict.answer  # the vendors answer errors with HTTP 200 and a code

    def webhook(self, name: str, headers: Mapping[str, str], body: bytes) -> int:
        with self.lock:
            settings = self.webhooks.setdefault(name, {})
            secret = settings.get("secret")
        verified: bool | None = None
        problem = None
        if secret:
            problem = verify_standard_webhook(str(secret), headers, body, now_s=time.time())
            verified = problem is None
        fault = self.take_fault(settings)
        status = 200 if fault is None else (504 if fault == "hang" else 500)
        try:
            event_type = json.loads(body).get("type")
        except (ValueError, AttributeError):
            event_type = None
        self.recorder.add(
            "webhook",
            {
                "name": name,
                "status": status,
                "accepted": status == 200,
                "signature_ok": verified,
                "problem": problem,
                "event_type": event_type,
                "headers": {k: v for k, v in headers.items() if k.startswith("webhook-")}
                | {"content-type": headers.get("content-type", "")},
                "body": body[:65536].decode("utf-8", errors="replace"),
            },
        )
        if fault == "hang":
            time.sleep(float(settings.get("hang_s") or 30.0))
        return status


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake-receivers"

    @property
    def fakes(self) -> FakeReceivers:
        fakes: FakeReceivers = self.server.fakes  # type: ignore[attr-defined]
        return fakes

    def log_message(self, format: str, *args: Any) -> None:
        pass  # what matters is recorded; an access log would hold phone numbers in queries

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test): nothing to answer to

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(413, {"error": "body too large"})
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            return None  # the client went away mid-request (killed): nothing to judge
        return body

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if parts.path in ("/healthz", "/readyz"):
            self._answer(200, {"status": "ok"})
        elif parts.path == "/recorded":
            self._answer(200, self.fakes.recorder.get(query.get("kind")))
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        fakes = self.fakes
        if path == "/control":
            fakes.control(_json(body) or {})
            self._answer(200, {"status": "ok"})
        elif path in ("/sms", "/sms/"):
            form = dict(parse_qsl(body.decode("utf-8", errors="replace"))) | query
            self._answer(*fakes.send_sms("POST", form))
        elif path == "/robots/wecom/send":
            self._answer(*fakes.robot("wecom", check_wecom(query, _json(body), key=_key(fakes))))
        elif path == "/robots/dingtalk/send":
            secret = fakes.robots.get("dingtalk_secret")
            verdict = check_dingtalk(query, _json(body), secret=secret, now_s=time.time())
            self._answer(*fakes.robot("dingtalk", verdict))
        elif path.startswith("/robots/feishu/hook/"):
            token = path.removeprefix("/robots/feishu/hook/")
            secret = fakes.robots.get("feishu_secret")
            verdict = check_feishu(token, _json(body), secret=secret, now_s=time.time())
            self._answer(*fakes.robot("feishu", verdict))
        elif path.startswith("/webhooks/") and len(path) > len("/webhooks/"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = fakes.webhook(path.removeprefix("/webhooks/"), headers, body)
            self._answer(status, {"received": status == 200})
        else:
            self._answer(404, {"error": "not found"})


def _key(fakes: FakeReceivers) -> str | None:
    key = fakes.robots.get("wecom_key")
    return str(key) if key else None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--record", type=Path, default=None, help="directory of the JSONL files")
    parser.add_argument("--sms-receipt-url", default="", help="where SmsReport pushes go")
    args = parser.parse_args(argv)
    fakes = FakeReceivers(port=args.port, record=args.record)
    if args.sms_receipt_url:
        fakes.control({"sms": {"receipt_url": args.sms_receipt_url}})
    print(f"fake receivers on {fakes.url}", flush=True)
    try:
        fakes.serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
