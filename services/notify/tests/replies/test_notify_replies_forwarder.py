"""The forwarder against a fake intake on loopback: while intake is down a reply waits
(back-off, never dropped), once it is up the reply is posted once with notify's token for
intake and marked forwarded (its text blanked); intake's refusal (409 withdrawn) is
recorded as refused with the reason and never retried; intake's 422 (the text refused as
invalid, notify's fault) is final too, and logged as an error."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import structlog
from complaint_runtime.database import utcnow
from notify.adapters.internal_api import InternalApi
from notify.replies import service
from notify.replies.db import InboundReply
from sqlalchemy import select

from .conftest import COMPLAINT_ID, Notify


class FakeIntake(ThreadingHTTPServer):
    def __init__(self, port: int, answer: tuple[int, dict[str, Any]]):
        super().__init__(("127.0.0.1", port), _Handler)
        self.answer = answer
        self.posts: list[tuple[str, dict[str, Any], dict[str, Any]]] = []


class _Handler(BaseHTTPRequestHandler):
    server: FakeIntake

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        self.server.posts.append((self.path, body, claims))
        status, answer = self.server.answer
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        """Quiet."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def start_intake(port: int) -> Iterator[Any]:
    servers: list[FakeIntake] = []

    def start(status: int, answer: dict[str, Any]) -> FakeIntake:
        server = FakeIntake(port, (status, answer))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def api(notify: Notify, port: int) -> Any:
    client = InternalApi(
        intake_url=f"http://127.0.0.1:{port}",
        feedback_url="http://127.0.0.1:9",
        caller=notify.deps.runtime.service_caller(),
        timeout_s=2.0,
    )
    yield client
    await client.aclose()


async def store(notify: Notify, now: datetime) -> None:
    async with notify.deps.database.unit_of_work() as uow:
        await service.store_reply(
            uow.session,
            complaint_id=COMPLAINT_ID,
            channel="email",
            external_id="<reply-1@example.com>",
            text="Still no refund.",
            now=now,
        )


async def rows(notify: Notify) -> list[InboundReply]:
    async with notify.deps.database.sessions() as session:
        return list(await session.scalars(select(InboundReply)))


BACKOFF = service.Backoff(base_s=10.0, max_s=60.0, rng=lambda: 1.0)


async def test_a_reply_waits_for_intake_and_is_forwarded_once(
    notify: Notify, api: InternalApi, start_intake: Any
) -> None:
    t0 = utcnow()
    await store(notify, t0)
    # intake is down (nothing listens on its port): the reply waits.
    for minutes in (0, 1, 5):
        now = t0 + timedelta(minutes=minutes)
        await service.forward_due(
            database=notify.deps.database, api=api, backoff=BACKOFF, now=lambda n=now: n
        )
    (waiting,) = await rows(notify)
    assert waiting.status == "pending"
    assert waiting.attempts >= 2
    assert waiting.text == "Still no refund."
    assert waiting.next_attempt_at > t0 + timedelta(minutes=5)
    assert "unreachable" in (waiting.last_error or "")

    fake = start_intake(
        201, {"outcome": "message_added", "complaint_id": COMPLAINT_ID, "message_id": "m-1"}
    )
    later = t0 + timedelta(hours=1)
    for _ in range(3):  # more rounds after it went through post nothing more
        await service.forward_due(
            database=notify.deps.database, api=api, backoff=BACKOFF, now=lambda: later
        )
    (forwarded,) = await rows(notify)
    assert (forwarded.status, forwarded.message_id, forwarded.text) == ("forwarded", "m-1", "")
    (post,) = fake.posts
    path, body, claims = post
    assert path == f"/internal/v1/complaints/{COMPLAINT_ID}/messages"
    assert body["text"] == "Still no refund."
    assert (body["channel"], body["external_id"]) == ("email", forwarded.reply_id)
    assert datetime.fromisoformat(body["received_at"]) == t0
    assert claims["aud"] == "intake"


async def test_a_refusal_is_recorded_and_not_retried(
    notify: Notify, api: InternalApi, start_intake: Any
) -> None:
    t0 = utcnow()
    await store(notify, t0)
    problem = {
        "type": "https://docs.opencomplaints.org/problems/complaint-withdrawn",
        "title": "Complaint withdrawn",
        "status": 409,
    }
    fake = start_intake(409, problem)
    for hours in (0, 1, 2):
        now = t0 + timedelta(hours=hours)
        await service.forward_due(
            database=notify.deps.database, api=api, backoff=BACKOFF, now=lambda n=now: n
        )
    (refused,) = await rows(notify)
    assert (refused.status, refused.last_error, refused.text) == (
        "refused",
        "409 complaint-withdrawn",
        "",
    )
    assert len(fake.posts) == 1


@pytest.mark.parametrize(
    ("status", "kind", "level"),
    [(422, "invalid-input", "error"), (409, "complaint-withdrawn", "info")],
)
async def test_an_invalid_input_refusal_is_an_error(
    notify: Notify,
    api: InternalApi,
    start_intake: Any,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    kind: str,
    level: str,
) -> None:
    t0 = utcnow()
    await store(notify, t0)
    problem = {"type": f"https://docs.opencomplaints.org/problems/{kind}", "status": status}
    fake = start_intake(status, problem)
    with structlog.testing.capture_logs() as logs:
        # A fresh logger: the module's may be cached with the processors of an earlier test.
        monkeypatch.setattr(service, "log", structlog.get_logger(service.__name__))
        for hours in (0, 1):
            now = t0 + timedelta(hours=hours)
            await service.forward_due(
                database=notify.deps.database, api=api, backoff=BACKOFF, now=lambda n=now: n
            )
    (refused,) = await rows(notify)
    assert (refused.status, refused.last_error) == ("refused", f"{status} {kind}")
    assert len(fake.posts) == 1  # final: never offered again
    (logged,) = [e for e in logs if e.get("reply_id") == refused.reply_id]
    assert (logged["log_level"], logged["refusal"]) == (level, f"{status} {kind}")


async def test_a_server_error_is_retried(
    notify: Notify, api: InternalApi, start_intake: Any
) -> None:
    t0 = utcnow()
    await store(notify, t0)
    fake = start_intake(503, {"title": "Service unavailable"})
    await service.forward_due(
        database=notify.deps.database, api=api, backoff=BACKOFF, now=lambda: t0
    )
    (waiting,) = await rows(notify)
    assert (waiting.status, waiting.last_error) == ("pending", "intake answered 503")
    assert len(fake.posts) == 1
