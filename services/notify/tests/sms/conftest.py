"""The SMS tests' local Alibaba Cloud SMS server: a real HTTP server on loopback that checks
every request's signature with its own implementation of the documented algorithm
(``urllib.parse.quote`` based, not the adapter's code) and answers what the test queued: a
JSON answer (OK with a BizId, a throttling code, a refused template ...), raw bytes with the
headers the test chose (a body its ``Content-Encoding`` does not describe), or nothing at all
(a hang, until the test ends)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest

KEY_ID = "testId"
SECRET = "testSecret"


# --- the server's own implementation of the documented algorithm ------------------------


def reference_encode(text: str) -> str:
    # quote() keeps A-Z a-z 0-9 _ . - ~ and, with safe="", encodes "/" too: the RFC 3986 rule.
    return quote(text, safe="")


def reference_signature(method: str, params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{reference_encode(k)}={reference_encode(v)}" for k, v in pairs)
    to_sign = "&".join([method, reference_encode("/"), reference_encode(canonical)])
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


# --- the local provider -----------------------------------------------------------------


@dataclass
class FakeAliyun:
    """Answers queued replies in order: ``("json", status, body)``,
    ``("raw", status, headers, body)``, ``("hang",)``."""

    url: str = ""
    replies: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def make_handler(fake: FakeAliyun) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            params = dict(parse_qsl(raw, keep_blank_values=True, strict_parsing=True))
            fake.requests.append(params)
            reply = fake.replies.pop(0) if fake.replies else ("json", 200, {"Code": "OK"})
            if reply[0] == "hang":
                fake.release.wait(30)
                return
            if params.get("AccessKeyId") != KEY_ID:
                self.answer(404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "no key"})
                return
            expected = reference_signature("POST", params, SECRET)
            if params.get("Signature") != expected:
                self.answer(400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"})
                return
            if reply[0] == "raw":
                _, status, headers, data = reply
                self.send_response(status)
                for name, value in {"Content-Length": str(len(data)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                return
            _, status, body = reply
            self.answer(status, body)

        def answer(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeAliyun]:
    state = FakeAliyun()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # A short read timeout: the "hang" reply must end in a timeout, not a long wait.
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.5)) as http:
        yield http
