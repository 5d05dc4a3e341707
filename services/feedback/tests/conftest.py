"""Fixtures of feedback's tests: a fresh SQLite database with feedback's tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import sqlite_database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    # Registers feedback's tables (the closed loop's and the NPS programme's) on the base.
    import feedback.db
    import feedback.nps.db  # noqa: F401

    db = await sqlite_database(tmp_path / "feedback.db", "feedback")
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def identity() -> DevIdentity:
    """The test session's keys: staff tokens, every service's own tokens, ``AUTH_JWKS``."""
    return DevIdentity.generate()
