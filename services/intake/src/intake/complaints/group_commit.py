"""Group commit of new complaints: concurrent POSTs share one transaction
(:mod:`complaint_runtime.group_commit`), and their rows go in with one INSERT per table.

A request stages its rows as plain dicts (``StagedRows.of(uow.session)``, no ORM object)
and its events in the unit of work's outbox; once every request of the group has run, the
rows go in with one INSERT per table in foreign-key order, then the outbox's one INSERT
and the COMMIT. (A request may also add ORM objects to ``uow.session``: they are flushed
before the staged rows.) Each request gets its 201 only after that commit, so a 201 keeps
meaning "durable"; a request that failed the group is retried alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from complaint_runtime import group_commit
from complaint_runtime.database import Database, UnitOfWork

from intake.db import StagedRows


@asynccontextmanager
async def _staged_rows(uow: UnitOfWork) -> AsyncIterator[None]:
    staged = StagedRows.open(uow.session)
    yield
    await staged.write(uow.session)


class GroupCommitter(group_commit.GroupCommitter):
    def __init__(self, database: Database, *, max_batch: int = 256):
        super().__init__(database, max_batch=max_batch, around=_staged_rows)
