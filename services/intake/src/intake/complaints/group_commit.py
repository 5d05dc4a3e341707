"""Group commit: concurrent requests share one transaction.

With PostgreSQL's fsync on, a transaction per request spends most of its time in round
trips and the commit's WAL flush. Requests that arrive while a transaction is being written
wait in a queue and are written together in the next one: one BEGIN, one multi-row INSERT
per table, one COMMIT for all of them. Each request still gets its answer only after the
transaction holding its rows committed, so a 201 keeps meaning "durable".

A request stages its rows as plain dicts (``StagedRows.of(uow.session)``, no ORM object)
and its events in the unit of work's outbox; once every request of the batch has run, the
rows go in with one INSERT per table in foreign-key order (complaints, then their history),
then the outbox's one INSERT and the COMMIT. (A request may also add ORM objects to
``uow.session``: they are flushed before the staged rows.)

If a batch fails for a reason other than the database being unavailable, nothing of it was
committed and its requests are retried one by one, each in its own transaction, so one bad
request cannot fail the others.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

from complaint_runtime.context import caused_by, current_causation
from complaint_runtime.database import Database, UnitOfWork, is_database_unavailable
from sqlalchemy.exc import DBAPIError

from intake.db import StagedRows

Work = Callable[[UnitOfWork], Awaitable[dict[str, Any]]]


class GroupCommitter:
    def __init__(self, database: Database, *, max_batch: int = 256):
        self._database = database
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Work, asyncio.Future[dict[str, Any]]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def write(self, work: Work) -> dict[str, Any]:
        """Run ``work`` in a shared transaction; returns its result once committed."""
        if self._writer is None or self._writer.done():
            # A context of its own: the writer outlives the request that happened to start
            # it, and must not lend that request's correlation id to everyone else's.
            self._writer = asyncio.create_task(
                self._write_batches(), name="group-commit", context=contextvars.Context()
            )
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((_in_callers_causation(work), future))
        return await asyncio.shield(future)

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Work, asyncio.Future[dict[str, Any]]]]) -> None:
        try:
            async with self._database.unit_of_work() as uow:
                staged = StagedRows.open(uow.session)
                results = [await work(uow) for work, _ in batch]
                await staged.write(uow.session)
        except Exception as exc:
            unavailable = isinstance(exc, OSError | TimeoutError) or (
                isinstance(exc, DBAPIError) and is_database_unavailable(exc)
            )
            if len(batch) == 1 or unavailable:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            for item in batch:  # isolate the request that failed the batch
                await self._commit([item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _in_callers_causation(work: Work) -> Work:
    """``work`` as it runs in the writer task, under the causation of the request that asked
    for it: the events it stages carry that request's correlation id."""
    causation = current_causation()

    async def run(uow: UnitOfWork) -> dict[str, Any]:
        with caused_by(
            correlation_id=causation.correlation_id, causation_id=causation.causation_id
        ):
            return await work(uow)

    return run
