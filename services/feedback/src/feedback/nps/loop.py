"""The NPS loop: each tick it makes sure the schedule's due round exists (the period ended
``NPS_ROUND_DELAY_S`` ago) and works through every open round batch by batch
(:mod:`feedback.nps.rounds`). Replicas run it side by side: the round is created once
(``ON CONFLICT``) and its batches are claimed under the round's row lock (``SKIP
LOCKED``). An operator's round (``POST /internal/v1/nps/rounds``) wakes it."""

from __future__ import annotations

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop

from feedback.nps import rounds
from feedback.nps.domain.settings import NpsSettings

log = structlog.get_logger(__name__)


class NpsLoop:
    """A :class:`PeriodicLoop` run by the runtime's supervisor, stopped on shutdown."""

    def __init__(self, *, database: Database, nps: NpsSettings, tick_s: float):
        self._database = database
        self._nps = nps
        self._loop = PeriodicLoop(
            self._round, name="feedback nps", tick_s=tick_s, is_expected=is_transient
        )

    async def run(self) -> None:
        await self._loop.run()

    def stop(self) -> None:
        self._loop.stop()

    def wake(self) -> None:
        """Work now (an operator opened a round) rather than at the next tick."""
        self._loop.wake()

    async def run_once(self) -> int:
        """One round of the loop; the batches it ran."""
        await rounds.open_scheduled_round(database=self._database, nps=self._nps)
        return await rounds.drain(
            database=self._database, nps=self._nps, should_stop=lambda: self._loop.stopping
        )

    async def _round(self) -> bool:
        batches = await self.run_once()
        if batches:
            log.info("nps rounds worked on", batches=batches)
        return False  # everything open was drained: wait a tick
