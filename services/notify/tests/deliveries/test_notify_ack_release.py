# ruff: noqa: F811 (the harness fixtures are imported, and named as parameters)
"""The acknowledgement's wait for its SLA clocks ends with an event, not with polling: it
is recorded held for a short first wait, and the first-response clock's ``started`` event
(or a duplicate link, or a closure) releases it at once, keeping the due times on the row so
the message names them even before intake has projected the clocks."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from complaint_contracts import topics
from complaint_contracts.events import (
    ComplaintDuplicateLinked,
    ComplaintReceived,
    SlaClockStarted,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import utcnow
from complaint_runtime.testing import envelope_of, record_of
from notify.deliveries import releases, service
from notify.messages.domain.promised_times import MAX_RETRY_S, format_due

from .test_notify_ack_and_code_delivery import (  # the fixtures too
    _card,
    intake,  # noqa: F401
    notify_db,  # noqa: F401
    run,  # noqa: F401
    smtp_server,  # noqa: F401
)
from .test_notify_delivery_loop import Harness


async def _record_received(run: Harness, *, wait_s: float = 30.0) -> None:
    envelope = envelope_of(
        record_of(example_for(ComplaintReceived), topics.INTAKE, subject=COMPLAINT_ID)
    )
    async with run.database.unit_of_work() as uow:
        await service.record_deliveries(uow=uow, envelope=envelope, now=utcnow(), ack_wait_s=wait_s)


def _started(metric: str, due_hours: float) -> SlaClockStarted:
    return example_for(SlaClockStarted).model_copy(
        update={
            "complaint_id": COMPLAINT_ID,
            "metric": metric,
            "due_at": utcnow() + timedelta(hours=due_hours),
        }
    )


def test_the_first_look_is_the_longest_quick_retry_within_the_wait() -> None:
    now = utcnow()
    assert releases.first_look_at(now, wait_s=30) == now + timedelta(seconds=MAX_RETRY_S)
    assert releases.first_look_at(now, wait_s=0.5) == now + timedelta(seconds=0.5)
    assert releases.first_look_at(now, wait_s=0) == now


async def test_the_acknowledgement_is_held_until_its_clock_starts(run: Harness) -> None:
    _card(run.services, received_at=utcnow(), clocks_expected=True, timezone="Asia/Shanghai")
    await _record_received(run)
    loop = run.loop()
    assert await loop.run_once() == 0  # held: nothing claimed, no look-up at intake
    assert run.services.calls == []

    first, resolution = _started("first_response", 2), _started("resolution", 24)
    async with run.database.unit_of_work() as uow:
        # The resolution clock only leaves its due time; the first-response one releases.
        assert await releases.release_acknowledgement(
            uow=uow,
            complaint_id=COMPLAINT_ID,
            now=utcnow(),
            due_times={"resolution": resolution.due_at},
            release=False,
        )
        assert await releases.release_acknowledgement(
            uow=uow,
            complaint_id=COMPLAINT_ID,
            now=utcnow(),
            due_times={"first_response": first.due_at},
        )
    [row] = await run.rows()
    assert row.next_attempt_at <= utcnow()
    assert await loop.run_once() == 1
    [row] = await run.rows()
    assert (row.status, row.attempts) == ("sent", 1)
    body = run.sink.messages[0].get_content()
    # Intake's card has no due time yet: the message names the clock's own.
    due = format_due(first.due_at, ZoneInfo("Asia/Shanghai"), "zh-CN")
    assert f"我们将在 {due} 前首次回复您" in body
    assert format_due(resolution.due_at, ZoneInfo("Asia/Shanghai"), "zh-CN") in body


async def test_without_a_release_the_first_look_comes_after_the_short_wait(run: Harness) -> None:
    _card(run.services, received_at=utcnow(), clocks_expected=False)
    await _record_received(run, wait_s=0.2)
    loop = run.loop()
    assert await loop.run_once() == 0
    [row] = await run.rows()
    assert timedelta(0) < row.next_attempt_at - row.created_at <= timedelta(seconds=0.2)
    async with run.database.unit_of_work() as uow:
        row = await uow.session.merge(row)
        row.next_attempt_at = utcnow()  # as if the short wait were over
    assert await loop.run_once() == 1
    assert [r.status for r in await run.rows()] == ["sent"]


async def test_a_release_touches_only_the_complaints_pending_acknowledgement(run: Harness) -> None:
    await _record_received(run)
    async with run.database.unit_of_work() as uow:
        assert (
            await releases.release_acknowledgement(
                uow=uow, complaint_id="0190f7a2-0000-7000-8000-000000000000", now=utcnow()
            )
            == 0
        )
    await run.record(example_for(ComplaintDuplicateLinked), topics.ROUTING)
    async with run.database.unit_of_work() as uow:
        assert (
            await releases.release_acknowledgement(uow=uow, complaint_id=COMPLAINT_ID, now=utcnow())
            == 1
        )
