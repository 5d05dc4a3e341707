"""The auto-close loop, the closed loop's clock: unanswered requests expire into
complaint.auto_closed (§3), resolutions whose complaint.received never came are asked with
the defaults, and unanswered requests get their one reminder (``feedback.reminders``)."""

from __future__ import annotations

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop

from feedback import reminders, service
from feedback.domain.closed_loop import ClosedLoopSettings

log = structlog.get_logger(__name__)


class AutoCloser:
    """A :class:`PeriodicLoop` whose round drains what is due in bounded transactions
    (``batch_size`` requests each), then sends the overdue waiting requests, then the due
    reminders; a tick between rounds. Every step claims its rows (``SKIP LOCKED``), so
    replicas share the work. Run by the runtime's supervisor, stopped on shutdown."""

    def __init__(
        self,
        *,
        database: Database,
        loop_settings: ClosedLoopSettings,
        tick_s: float,
        batch_size: int,
    ):
        self._database = database
        self._loop_settings = loop_settings
        self._batch_size = batch_size
        self._loop = PeriodicLoop(
            self._round, name="feedback auto-close", tick_s=tick_s, is_expected=is_transient
        )

    async def run(self) -> None:
        await self._loop.run()

    def stop(self) -> None:
        self._loop.stop()

    async def run_once(self) -> int:
        """One round; returns the requests closed."""
        closed = await self._close_due()
        await self._send_overdue()
        await self._remind_due()
        return closed

    async def _round(self) -> bool:
        closed = await self.run_once()
        if closed:
            log.info("confirmation requests auto-closed", count=closed)
        return False  # the round drained everything due: wait a tick

    async def _close_due(self) -> int:
        total = 0
        while not self._loop.stopping:
            closed = await service.auto_close_due(database=self._database, limit=self._batch_size)
            total += closed
            if closed < self._batch_size:
                break
        return total

    async def _send_overdue(self) -> None:
        while not self._loop.stopping:
            sent = await service.send_overdue_waiting(
                database=self._database, loop_settings=self._loop_settings, limit=self._batch_size
            )
            if sent:
                log.warning("confirmation requests sent with default channel/language", count=sent)
            if sent < self._batch_size:
                break

    async def _remind_due(self) -> None:
        while not self._loop.stopping:
            sent = await reminders.send_due_reminders(
                database=self._database, loop_settings=self._loop_settings, limit=self._batch_size
            )
            if sent:
                log.info("confirmation requests reminded", count=sent)
            if sent < self._batch_size:
                break
