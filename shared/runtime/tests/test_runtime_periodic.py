"""The one background loop: rounds, more work at once, back-off after a failure, wake, stop,
and how a failure is reported (an outage is a warning, anything else an error)."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from complaint_runtime.periodic import PeriodicLoop
from complaint_runtime.service import _supervised


async def test_rounds_repeat_at_once_while_there_is_more_work() -> None:
    rounds: list[int] = []

    async def round_() -> bool:
        rounds.append(len(rounds))
        if len(rounds) == 5:
            loop.stop()
        return True  # always more: no tick between rounds

    loop = PeriodicLoop(round_, name="test", tick_s=60)
    await asyncio.wait_for(loop.run(), timeout=5)
    assert rounds == [0, 1, 2, 3, 4]


async def test_wake_cuts_the_tick_short_and_stop_ends_the_wait() -> None:
    rounds = 0

    async def round_() -> bool:
        nonlocal rounds
        rounds += 1
        return False  # idle: wait a tick (an hour) for the next round

    loop = PeriodicLoop(round_, name="test", tick_s=3600)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.05)
    assert rounds == 1
    loop.wake()
    await asyncio.sleep(0.05)
    assert rounds == 2
    loop.stop()
    await asyncio.wait_for(task, timeout=1)
    assert rounds == 2


async def test_a_long_run_of_failures_backs_off_and_never_ends_the_loop() -> None:
    """2**1024 does not fit a float: the exponent is capped, so a day-long outage (1024 and
    more failed rounds in a row) keeps the loop waiting, not crashing."""
    failures = 0
    outcomes: list[bool] = []

    async def round_() -> bool:
        nonlocal failures
        if failures < 1100:
            failures += 1
            raise ConnectionError("database down")
        loop.stop()
        return False

    loop = PeriodicLoop(
        round_,
        name="test",
        tick_s=0.0,
        backoff_base_s=0.0,
        max_backoff_s=0.0,
        on_outcome=outcomes.append,
        is_expected=lambda exc: isinstance(exc, ConnectionError),
    )
    await asyncio.wait_for(loop.run(), timeout=10)
    assert failures == 1100
    assert outcomes.count(False) == 1100
    assert outcomes[-1] is True


@pytest.mark.parametrize(
    ("error", "level", "traceback"),
    [(ConnectionError("database down"), "warning", False), (KeyError("bug"), "error", True)],
)
async def test_an_outage_is_a_warning_and_a_bug_an_error_with_its_traceback(
    error: Exception, level: str, traceback: bool
) -> None:
    calls = 0

    async def round_() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise error
        loop.stop()
        return False

    loop = PeriodicLoop(
        round_,
        name="test",
        tick_s=0.0,
        backoff_base_s=0.0,
        is_expected=lambda exc: isinstance(exc, ConnectionError),
    )
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(loop.run(), timeout=5)
    [failed] = [entry for entry in logs if entry["event"] == "test round failed"]
    assert failed["log_level"] == level
    assert ("exc_info" in failed) is traceback


def test_jitter_is_a_fraction_of_the_wait() -> None:
    async def round_() -> bool:
        return False

    with pytest.raises(ValueError, match="jitter"):
        PeriodicLoop(round_, name="test", tick_s=1, jitter=1.5)


async def test_a_crashed_background_task_is_restarted_and_reported_as_an_error() -> None:
    runs = 0

    async def run() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise KeyError("bug")  # a clean return afterwards: asked to stop

    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(_supervised("test-task", run), timeout=5)
    assert runs == 2
    [crash] = [e for e in logs if e["event"] == "background task crashed, restarting"]
    assert crash["log_level"] == "error"
    assert isinstance(crash["exc_info"], KeyError)
    assert crash["task"] == "test-task"
