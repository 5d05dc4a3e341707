"""Robot receivers written from each vendor's documented algorithm (never calling notify's
signing code), and a loopback HTTP server that plays the vendors for the adapter tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

WECOM_KEY = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "566cc69da782ec0123"
DINGTALK_SECRET = "SEC1f0a1b2c3d4e5f60718293a4b5c6d7e8f9"
FEISHU_SECRET = "demo-signing-secret"


def _b64_hmac_sha256(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def wecom_errors(url: str, body: Any) -> list[str]:
    """WeCom group robot: key in the query, a markdown message within 4096 bytes."""
    errors = []
    parts = urlsplit(url)
    if parse_qs(parts.query).get("key") != [WECOM_KEY]:
        errors.append("key")
    if body.get("msgtype") != "markdown":
        errors.append("msgtype")
    content = body.get("markdown", {}).get("content")
    if not isinstance(content, str) or not content:
        errors.append("markdown.content")
    elif len(content.encode("utf-8")) > 4096:
        errors.append("markdown.content too long")
    return errors


def dingtalk_errors(url: str, body: Any, *, now_ms: int) -> list[str]:
    """DingTalk custom robot with 加签: access_token, timestamp within an hour, sign =
    urlencoded base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret))."""
    errors = []
    query = parse_qs(urlsplit(url).query)
    if query.get("access_token") != [DINGTALK_TOKEN]:
        errors.append("access_token")
    (timestamp,) = query.get("timestamp", [""])
    (signature,) = query.get("sign", [""])
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > 3_600_000:
        errors.append("timestamp")
    else:
        string_to_sign = f"{timestamp}\n{DINGTALK_SECRET}".encode()
        expected = _b64_hmac_sha256(DINGTALK_SECRET.encode(), string_to_sign)
        if not hmac.compare_digest(signature, expected):
            errors.append("sign")
    markdown = body.get("markdown", {})
    if body.get("msgtype") != "markdown":
        errors.append("msgtype")
    for key in ("title", "text"):
        if not isinstance(markdown.get(key), str) or not markdown[key]:
            errors.append(f"markdown.{key}")
    return errors


def feishu_errors(body: Any, *, now_s: int) -> list[str]:
    """Feishu custom bot with 签名校验: timestamp (seconds, a string) within an hour, sign =
    base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=empty)); a card with a plain-text
    header title and elements that each have a tag, or a text message."""
    errors = []
    timestamp = body.get("timestamp")
    if (
        not isinstance(timestamp, str)
        or not timestamp.isdigit()
        or abs(now_s - int(timestamp)) > 3600
    ):
        errors.append("timestamp")
    else:
        expected = _b64_hmac_sha256(f"{timestamp}\n{FEISHU_SECRET}".encode(), b"")
        if not hmac.compare_digest(str(body.get("sign")), expected):
            errors.append("sign")
    if body.get("msg_type") == "interactive":
        card = body.get("card", {})
        title = card.get("header", {}).get("title", {})
        if title.get("tag") != "plain_text" or not isinstance(title.get("content"), str):
            errors.append("card.header.title")
        elements = card.get("elements")
        if not isinstance(elements, list) or not elements:
            errors.append("card.elements")
        elif not all(isinstance(e, dict) and isinstance(e.get("tag"), str) for e in elements):
            errors.append("card.elements.tag")
        elif not any(
            e["tag"] == "markdown" and isinstance(e.get("content"), str) for e in elements
        ):
            errors.append("card.elements.markdown")
    elif body.get("msg_type") == "text":
        if not isinstance(body.get("content", {}).get("text"), str):
            errors.append("content.text")
    else:
        errors.append("msg_type")
    return errors


@dataclass
class FakeRobots:
    """The loopback server: ``base`` URL, what it received, and the hang switch.

    Paths: ``/wecom/...``, ``/dingtalk/...``, ``/feishu/...`` validate the request with the
    receiver above and answer as the vendor (its signature error if the check fails);
    ``/answer/<status>`` answers that status with the body set in ``answers``; ``/hang``
    answers nothing until the test ends; ``/drip`` answers one byte at a time; ``/gzip``
    answers 200 ``Content-Encoding: gzip`` with a body that is not gzip."""

    base: str
    now_ms: int
    received: list[tuple[str, Any]] = field(default_factory=list)
    answers: dict[str, bytes] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)


def _vendor_answer(path: str, url: str, body: Any, *, now_ms: int) -> dict[str, Any]:
    """What the vendor behind ``path`` answers: ok, or its error for a request that fails
    the receiver's check."""
    if path.startswith("/wecom"):
        if wecom_errors(url, body):
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        return {"errcode": 0, "errmsg": "ok"}
    if path.startswith("/dingtalk"):
        if dingtalk_errors(url, body, now_ms=now_ms):
            return {"errcode": 310000, "errmsg": "sign not match"}
        return {"errcode": 0, "errmsg": "ok"}
    if feishu_errors(body, now_s=now_ms // 1000):
        return {"code": 19021, "msg": "sign match fail", "data": {}}
    return {"code": 0, "msg": "success", "data": {}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    robots: FakeRobots


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        robots = self.server.robots
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.loads(raw.decode("utf-8"))
        robots.received.append((self.path, body))
        path = urlsplit(self.path).path
        if path == "/hang":
            robots.release.wait(timeout=30)
        elif path == "/drip":
            self._drip(robots.release)
        elif path == "/gzip":
            payload = b'{"errcode": 0, "errmsg": "ok"}'  # taken, but not gzip as it claims
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif path.startswith("/answer/"):
            self._answer(int(path.rsplit("/", 1)[1]), robots.answers.get(path, b""))
        else:
            answer = _vendor_answer(path, f"http://robot{self.path}", body, now_ms=robots.now_ms)
            self._answer(200, json.dumps(answer).encode())

    def _drip(self, release: threading.Event) -> None:
        # A byte every 0.1 s: each read succeeds in time, the whole answer never does.
        self.send_response(200)
        self.send_header("Content-Length", "300")
        self.end_headers()
        try:
            for _ in range(300):
                if release.wait(timeout=0.1):
                    return
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            return  # the client gave up

    def _answer(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def fake_robots() -> Iterator[FakeRobots]:
    """A threaded HTTP server on 127.0.0.1 playing the three vendors."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    robots = FakeRobots(base=f"http://{host!s}:{port}", now_ms=1_760_000_000_000)
    server.robots = robots
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield robots
    finally:
        robots.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receivers() -> dict[str, Callable[..., list[str]]]:
    """The three receivers' checks, by vendor."""
    return {"wecom": wecom_errors, "dingtalk": dingtalk_errors, "feishu": feishu_errors}
