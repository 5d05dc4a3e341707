"""Group commit: concurrent callers share one transaction.

With PostgreSQL's fsync on, a transaction per caller spends most of its time in round trips
and the commit's WAL flush. Work that arrives while a transaction is being written waits in
a queue and is written together in the next one: one BEGIN, the work of every caller, one
COMMIT. Each caller still gets its answer only after the transaction holding its work
committed, so what it answers stays true ("durable", "recorded").

If a group fails for a reason other than the database being unavailable, nothing of it was
committed and its members are retried one by one, each in its own transaction, so one bad
member cannot fail the others. Each member runs under its caller's causation, so the events
it stages carry the caller's correlation id.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from sqlalchemy.exc import DBAPIError

from complaint_runtime.context import caused_by, current_causation
from complaint_runtime.database import Database, UnitOfWork, is_database_unavailable

Work = Callable[[UnitOfWork], Awaitable[Any]]
# What wraps the members of a group inside its transaction (e.g. rows staged by each member,
# written together once all have run).
Around = Callable[[UnitOfWork], AbstractAsyncContextManager[Any]]


def _nothing_around(_uow: UnitOfWork) -> AbstractAsyncContextManager[None]:
    return nullcontext()


class GroupCommitter:
    def __init__(self, database: Database, *, max_batch: int = 256, around: Around | None = None):
        self._database = database
        self._max_batch = max_batch
        self._around = around or _nothing_around
        self._queue: asyncio.Queue[tuple[Work, asyncio.Future[Any]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def write(self, work: Work) -> Any:
        """Run ``work`` in a shared transaction; returns its result once committed."""
        if self._writer is None or self._writer.done():
            # A context of its own: the writer outlives the caller that happened to start
            # it, and must not lend that caller's correlation id to everyone else's.
            self._writer = asyncio.create_task(
                self._write_batches(), name="group-commit", context=contextvars.Context()
            )
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((_in_callers_causation(work), future))
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Stop the writer (once no caller waits on it: the process is shutting down)."""
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        try:
            async with self._database.unit_of_work() as uow, self._around(uow):
                results = [await work(uow) for work, _ in batch]
        except Exception as exc:
            unavailable = isinstance(exc, OSError | TimeoutError) or (
                isinstance(exc, DBAPIError) and is_database_unavailable(exc)
            )
            if len(batch) == 1 or unavailable:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            for item in batch:  # isolate the member that failed the group
                await self._commit([item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _in_callers_causation(work: Work) -> Work:
    """``work`` as it runs in the writer task, under the causation of its caller: the events
    it stages carry that caller's correlation id."""
    causation = current_causation()

    async def run(uow: UnitOfWork) -> Any:
        with caused_by(
            correlation_id=causation.correlation_id, causation_id=causation.causation_id
        ):
            return await work(uow)

    return run
