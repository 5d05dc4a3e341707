"""The acknowledgement waits for its SLA due times through the delivery loop, and the
lost-link code is sent once: against a real SMTP server (aiosmtpd) and a fake intake.

While intake's card has no first-response due time but expects one, the row goes back to
``pending`` for a moment: no message, no event, no attempt spent. Once the due time is
there, the message names it in the complaint's zone; once the window is over, it says
"as soon as possible". The code is read from intake once, and a row that finds it gone
is skipped, never sent without it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from complaint_contracts import topics
from complaint_contracts.events import (
    ComplaintReceived,
    NotificationFailed,
    NotificationSent,
    TrackingCodeRequested,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import Database, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import sqlite_database
from notify.messages.domain.promised_times import format_due

from .test_notify_delivery_loop import CUSTOMER_EMAIL, FakeServices, Harness, SmtpSink, free_port

CODE = "004217"


@dataclass
class IntakeWithCodes(FakeServices):
    """The fake intake, also answering lost-link codes (each readable once)."""

    codes: dict[str, str] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        prefix = f"/internal/v1/complaints/{COMPLAINT_ID}/tracking-codes/"
        if request.url.path.startswith(prefix):
            self.calls.append(request.url.path)
            code = self.codes.pop(request.url.path.removeprefix(prefix), None)
            if code is None:
                return httpx.Response(404, json={"title": "gone"})
            return httpx.Response(200, json={"code": code, "expires_at": None})
        return super().handle(request)


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
async def notify_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "notify.db", "notify")
    yield db
    await db.dispose()


@pytest.fixture
def intake(identity: DevIdentity) -> IntakeWithCodes:
    return IntakeWithCodes(identity)


@pytest.fixture
def run(notify_db: Database, intake: IntakeWithCodes, smtp_server: tuple[SmtpSink, int]) -> Harness:
    return Harness(notify_db, intake, *smtp_server)


def _card(intake: FakeServices, **values: Any) -> None:
    intake.contact |= {
        key: v.isoformat() if hasattr(v, "isoformat") else v for key, v in values.items()
    }


async def test_the_acknowledgement_waits_for_the_due_times_and_names_them(run: Harness) -> None:
    received = utcnow()
    _card(run.services, received_at=received, clocks_expected=True, timezone="Europe/Berlin")
    await run.record(example_for(ComplaintReceived), topics.INTAKE)
    loop = run.loop()
    await loop.run_once()
    [row] = await run.rows()
    assert (row.status, row.attempts) == ("pending", 0)  # waiting is not an attempt
    assert "waiting for the SLA due times" in (row.last_error or "")
    assert timedelta(0) < row.next_attempt_at - row.updated_at <= timedelta(seconds=2)
    assert run.sink.messages == []
    assert await run.events() == []  # nothing to report: no failure

    due = received + timedelta(hours=2)
    _card(run.services, first_response_due_at=due, resolution_due_at=due + timedelta(hours=22))
    await asyncio.sleep(0.3)
    await loop.run_once()
    [row] = await run.rows()
    assert (row.status, row.attempts) == ("sent", 1)
    body = run.sink.messages[0].get_content()
    first = format_due(due, ZoneInfo("Europe/Berlin"), "zh-CN")
    assert f"我们将在 {first} 前首次回复您" in body
    assert "Europe/Berlin 时间" in body
    [(_, event)] = await run.events()
    assert isinstance(event.data, NotificationSent)
    assert event.data.attempts == 1


async def test_after_the_window_it_is_sent_without_times(run: Harness) -> None:
    _card(run.services, received_at=utcnow() - timedelta(seconds=31), clocks_expected=True)
    await run.record(example_for(ComplaintReceived), topics.INTAKE)
    await run.loop().run_once()
    [row] = await run.rows()
    assert row.status == "sent"
    assert "我们将尽快回复您" in run.sink.messages[0].get_content()


async def test_a_complaint_without_clocks_is_acknowledged_at_once(run: Harness) -> None:
    _card(run.services, received_at=utcnow(), clocks_expected=False)  # a duplicate
    await run.record(example_for(ComplaintReceived), topics.INTAKE)
    await run.loop().run_once()
    assert [row.status for row in await run.rows()] == ["sent"]


async def test_a_past_due_time_is_not_promised(run: Harness) -> None:
    past = utcnow() - timedelta(minutes=5)
    _card(run.services, received_at=past, first_response_due_at=past, clocks_expected=False)
    await run.record(example_for(ComplaintReceived), topics.INTAKE)
    await run.loop().run_once()
    assert "我们将尽快回复您" in run.sink.messages[0].get_content()


async def test_the_lost_link_code_is_sent_once_and_never_without_the_code(run: Harness) -> None:
    assert isinstance(run.services, IntakeWithCodes)
    event = example_for(TrackingCodeRequested)
    assert isinstance(event, TrackingCodeRequested)
    run.services.codes[event.request_id] = CODE
    await run.record(event, topics.INTAKE)
    again = event.model_copy(update={"requested_at": event.requested_at + timedelta(seconds=1)})
    await run.record(again, topics.INTAKE)  # another event about the same (read) code
    loop = run.loop()
    await loop.run_once()
    rows = await run.rows()
    assert sorted(row.status for row in rows) == ["sent", "skipped"]
    [message] = run.sink.messages
    assert run.sink.rcpts == [[CUSTOMER_EMAIL]]
    assert f"验证码：{CODE}" in message.get_content()
    assert CODE not in str(message["Subject"])
    for row in rows:
        assert CODE not in str(row.context)
    events = [e.data for _, e in await run.events()]
    assert {type(e) for e in events} == {NotificationSent, NotificationFailed}
    assert all(CODE not in e.model_dump_json() for e in events)
