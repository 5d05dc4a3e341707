"""The auto-close loop: unanswered requests expire into complaint.auto_closed (§3)."""

from __future__ import annotations

import asyncio

import structlog
from complaint_runtime.database import Database

from feedback import service

log = structlog.get_logger(__name__)


class AutoCloser:
    """Run by the runtime's supervisor: restarted after a crash, stopped on shutdown."""

    def __init__(
        self, *, database: Database, policy: service.Policy, tick_s: float, batch_size: int
    ):
        self._database = database
        self._policy = policy
        self._tick_s = tick_s
        self._batch_size = batch_size
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def tick(self) -> int:
        """One round: drain what is due in bounded transactions; returns requests closed."""
        total = 0
        while not self._stopping.is_set():
            closed = await service.auto_close_due(database=self._database, limit=self._batch_size)
            total += closed
            if closed < self._batch_size:
                break
        while not self._stopping.is_set():
            sent = await service.send_overdue_waiting(
                database=self._database, policy=self._policy, limit=self._batch_size
            )
            if sent:
                log.warning("confirmation requests sent with default channel/language", count=sent)
            if sent < self._batch_size:
                break
        return total

    async def run(self) -> None:
        while not self._stopping.is_set():
            closed = await self.tick()
            if closed:
                log.info("confirmation requests auto-closed", count=closed)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self._tick_s)
            except TimeoutError:
                pass
