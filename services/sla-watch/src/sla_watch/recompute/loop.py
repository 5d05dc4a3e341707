"""The recompute loop: a batch of :func:`~sla_watch.recompute.service.recompute_batch` every
tick, straight away again while there is work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop

from sla_watch.clocks.settings import ClockSettings
from sla_watch.recompute.service import recompute_batch


class RecomputeLoop:
    """Runs :func:`recompute_batch` every tick, straight away again while there is work."""

    def __init__(
        self,
        *,
        database: Database,
        settings: ClockSettings,
        tick_s: float = 1.0,
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._database = database
        self._settings = settings
        self._batch = batch
        self._clock = clock
        # A failed batch committed nothing; the job resumes from its cursor.
        self._loop = PeriodicLoop(
            self._round,
            name="recompute batch",
            tick_s=tick_s,
            max_backoff_s=30.0,
            is_expected=is_transient,
        )

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        await self._loop.run()

    async def _round(self) -> bool:
        job = await recompute_batch(
            database=self._database,
            settings=self._settings,
            batch=self._batch,
            now=self._clock(),
        )
        return job is not None
