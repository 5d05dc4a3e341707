"""Loopback webhook receivers (real HTTP servers in threads) and notify wired for webhooks.

A :class:`Receiver` records every request and answers as its ``mode`` says: ``ok`` (204),
``fail`` (500 for the first ``failures`` requests, then 204), ``hang`` (answers only after
``hang_s``), ``redirect`` (302 to ``location``), ``busy`` (503 with ``Retry-After: 120``),
``gone`` (410), ``status`` (``status`` with an empty body). ``busy``'s header is
``retry_after``. With ``secrets`` set it verifies each request with the Standard Webhooks
reference library (``standardwebhooks``) and answers 401 to one that does not verify.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from complaint_runtime.dev_identity import DevIdentity
from notify.bootstrap import Dependencies, build_dependencies
from notify.config import NotifySettings
from notify.main import MIGRATIONS
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None  # None: not checked


@dataclass
class Receiver:
    mode: str = "ok"
    failures: int = 0
    hang_s: float = 5.0
    location: str = ""
    retry_after: str = "120"
    status: int = 204
    secrets: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    port: int = 0

    def verified_by(self, secret: str, request: Request) -> bool:
        try:
            Webhook(secret).verify(request.body, request.headers)
        except WebhookVerificationError:
            return False
        return True


def _respond(handler: Any, receiver: Receiver, verified: bool | None) -> None:
    """Answer as the receiver's mode says (``handler`` is the request's handler)."""
    if verified is False:
        handler.answer(401, b"bad signature")
    elif receiver.mode == "fail" and len(receiver.requests) <= receiver.failures:
        handler.answer(500, b"down for a moment, call 13812345678")
    elif receiver.mode == "hang":
        time.sleep(receiver.hang_s)
        handler.answer(204, b"")
    elif receiver.mode == "redirect":
        handler.answer(302, b"", ("Location", receiver.location))
    elif receiver.mode == "busy":
        handler.answer(503, b"", ("Retry-After", receiver.retry_after))
    elif receiver.mode == "gone":
        handler.answer(410, b"gone")
    elif receiver.mode == "status":
        handler.answer(receiver.status, b"")
    else:
        handler.answer(204, b"")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = None
            if receiver.secrets:
                request = Request(self.path, headers, body, None)
                verified = any(receiver.verified_by(s, request) for s in receiver.secrets)
            receiver.requests.append(Request(self.path, headers, body, verified))
            _respond(self, receiver, verified)

        def answer(self, status: int, body: bytes, *header: tuple[str, str]) -> None:
            self.send_response(status)
            for name, value in header:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """``receivers(mode=..., ...)``: a started loopback receiver; all stopped after."""
    servers: list[ThreadingHTTPServer] = []

    def start(**values: Any) -> Receiver:
        receiver = Receiver(**values)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        server.daemon_threads = True
        receiver.port = server.server_address[1]
        receiver.url = f"http://127.0.0.1:{receiver.port}/hook"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class ShiftedClock:
    """Real time plus an offset the test moves (the receiver's library checks timestamps
    against its own clock, so the offset stays within minutes)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


LOOPBACK = "127.0.0.0/8,::1/128"


@pytest.fixture
async def webhook_deps(
    migrated_sqlite: Callable[[Path], Any], identity: DevIdentity, clock: ShiftedClock
) -> AsyncIterator[Callable[..., Awaitable[Dependencies]]]:
    """``await webhook_deps(**settings)``: notify's dependencies on a migrated SQLite
    database, loopback receivers allowed, short timeouts and retries, the shifted clock."""
    built: list[Dependencies] = []

    async def build(**values: Any) -> Dependencies:
        url = await migrated_sqlite(MIGRATIONS)
        defaults: dict[str, Any] = {
            "database_url": url,
            "notify_webhook_allowed_networks": LOOPBACK,
            "notify_webhook_timeout_s": 2.0,
            "notify_webhook_retry_base_s": 0.01,
            "notify_webhook_retry_cap_s": 0.02,
            **{k.lower(): v for k, v in identity.env("notify").items()},
        }
        deps = build_dependencies(NotifySettings(**(defaults | values)), clock=clock)
        built.append(deps)
        return deps

    yield build
    for deps in built:
        if deps.webhooks is not None:
            await deps.webhooks.dispatcher.aclose()
        await deps.internal_api.aclose()
        await deps.database.dispose()


@pytest.fixture
async def pg_webhook_deps(
    local_postgres: Any, identity: DevIdentity, clock: ShiftedClock
) -> AsyncIterator[Callable[..., Awaitable[list[Dependencies]]]]:
    """``await pg_webhook_deps(n, **settings)``: ``n`` notify processes' dependencies on one
    fresh database of the suite's PostgreSQL (as ``webhook_deps`` otherwise)."""
    from complaint_runtime.migrations import upgrade_to_head

    built: list[Dependencies] = []
    names: list[str] = []

    async def build(count: int, **values: Any) -> list[Dependencies]:
        name = f"t_{uuid.uuid4().hex[:16]}"
        url = await local_postgres.create_database_async(name)
        names.append(name)
        await upgrade_to_head(MIGRATIONS, url)
        defaults: dict[str, Any] = {
            "database_url": url,
            "notify_webhook_allowed_networks": LOOPBACK,
            "notify_webhook_timeout_s": 2.0,
            "notify_webhook_retry_base_s": 0.01,
            "notify_webhook_retry_cap_s": 0.02,
            **{k.lower(): v for k, v in identity.env("notify").items()},
        }
        made = [
            build_dependencies(NotifySettings(**(defaults | values)), clock=clock)
            for _ in range(count)
        ]
        built.extend(made)
        return made

    yield build
    for deps in built:
        if deps.webhooks is not None:
            await deps.webhooks.dispatcher.aclose()
        await deps.internal_api.aclose()
        await deps.database.dispose()
    for name in names:
        await local_postgres.drop_database_async(name)
