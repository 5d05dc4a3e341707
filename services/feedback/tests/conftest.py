"""Fixtures of feedback's tests: a fresh SQLite database with feedback's tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from complaint_runtime.database import Base, Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    import feedback.db  # noqa: F401  (registers feedback's tables on Base.metadata)

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/feedback.db")
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield db
    await db.dispose()
