"""The one shape of every background loop (outbox relay, SLA firing and recompute, feedback's
auto-close, notify's deliveries): run a round, again at once while there is more work, else
after a tick; back off after a failed round; wake early when told there is work; stop
promptly when asked.

Waits carry jitter, so replicas started together (a rollout) do not poll the database in
lockstep, and a dependency coming back is not hit by every replica's retry at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class PeriodicLoop:
    """Calls ``round_`` until :meth:`stop`.

    ``round_`` returns whether there is more work right now (then it runs again straight
    away) and raises when it failed: the loop then waits ``backoff_base_s × 2^failures``
    (at most ``max_backoff_s``) before the next round. A failed round must have committed
    nothing, so the next one simply redoes its work. ``on_outcome`` hears of each round's
    success or failure (metrics). A failure ``is_expected`` accepts (a dependency outage) is
    a warning; any other is an error with its traceback (a bug to look at).
    """

    def __init__(
        self,
        round_: Callable[[], Awaitable[bool]],
        *,
        name: str,
        tick_s: float,
        max_backoff_s: float = 10.0,
        backoff_base_s: float | None = None,
        jitter: float = 0.1,
        on_outcome: Callable[[bool], None] = lambda _ok: None,
        is_expected: Callable[[Exception], bool] = lambda _exc: False,
    ):
        if not 0 <= jitter < 1:
            raise ValueError("jitter is a fraction of the wait, 0 <= jitter < 1")
        self._round = round_
        self._name = name
        self._tick_s = tick_s
        self._max_backoff_s = max_backoff_s
        self._backoff_base_s = tick_s if backoff_base_s is None else backoff_base_s
        self._jitter = jitter
        self._on_outcome = on_outcome
        self._is_expected = is_expected
        self._stopping = asyncio.Event()
        self._wakeup = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    def wake(self) -> None:
        """Cut the current wait short: there is work now (e.g. events just committed)."""
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._wakeup.clear()
            try:
                more = await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self._on_outcome(False)
                # The exponent is capped: the delay is at its maximum long before, and 2**1024
                # would not fit a float (a day-long outage must not crash the loop).
                delay = min(self._backoff_base_s * 2 ** min(failures, 32), self._max_backoff_s)
                self._log_failure(exc, retry_in_s=delay)
                await self.sleep(delay)
                continue
            failures = 0
            self._on_outcome(True)
            if not more:
                await self.sleep(self._tick_s)

    def _log_failure(self, exc: Exception, *, retry_in_s: float) -> None:
        message = f"{self._name} round failed"
        if self._is_expected(exc):
            log.warning(message, error=repr(exc)[:300], retry_in_s=retry_in_s)
        else:
            log.error(message, error=repr(exc)[:300], retry_in_s=retry_in_s, exc_info=exc)

    async def sleep(self, seconds: float) -> None:
        """Wait about ``seconds`` (± the jitter), less when woken or stopped meanwhile."""
        spread = 1 + self._jitter * (2 * random.random() - 1)  # noqa: S311 (spread, not secret)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds * spread)
