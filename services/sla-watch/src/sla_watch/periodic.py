"""The shape both background loops of sla-watch share (firing, recompute): run one round,
again at once while there is more work, else after a tick; back off after a failed round;
stop promptly when asked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class PeriodicLoop:
    """Calls ``round_`` until :meth:`stop`. ``round_`` returns whether there is more work
    right now (then it runs again straight away) and raises when it failed (then the loop
    waits ``tick_s × 2^failures``, at most ``max_backoff_s``, before the next round; a
    failed round committed nothing, so the next one redoes its work)."""

    def __init__(
        self,
        round_: Callable[[], Awaitable[bool]],
        *,
        name: str,
        tick_s: float,
        max_backoff_s: float,
        on_outcome: Callable[[bool], None] = lambda ok: None,
    ):
        self._round = round_
        self._name = name
        self._tick_s = tick_s
        self._max_backoff_s = max_backoff_s
        self._on_outcome = on_outcome
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                more = await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self._on_outcome(False)
                delay = min(self._tick_s * 2**failures, self._max_backoff_s)
                log.warning(f"{self._name} round failed", error=repr(exc)[:300], retry_in_s=delay)
                await self.sleep(delay)
                continue
            failures = 0
            self._on_outcome(True)
            if not more:
                await self.sleep(self._tick_s)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the loop is stopped meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
