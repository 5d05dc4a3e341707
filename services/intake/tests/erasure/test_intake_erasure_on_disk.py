"""On SQLite (the zero-setup ``make up``) erased values leave the disk: every connection of
``complaint_runtime.database.Database`` has ``secure_delete`` on, so the space a rewritten
row or a deleted index entry leaves is zeroed, and the erasure checkpoints the write-ahead
log (truncated), where the page images written before the erasure would otherwise wait.

Many builds of SQLite (Debian's among them) have ``secure_delete`` on by default, others
(SQLite's own default) off: each test first turns it off on every new connection, as such
a build would, before the Database's own set-up runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from complaint_runtime.database import Database
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import FORBIDDEN, Intake, complaint_body


def _built_without_secure_delete(engine: AsyncEngine) -> None:
    def off(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete=OFF")
        cursor.close()

    event.listen(engine.sync_engine, "connect", off, insert=True)


async def test_every_sqlite_connection_zeroes_what_it_frees(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'any.db'}")
    _built_without_secure_delete(database.engine)
    try:
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA secure_delete"))).scalar() == 1
    finally:
        await database.dispose()


async def test_erased_values_are_not_left_in_the_database_files(intake: Intake) -> None:
    _built_without_secure_delete(intake.app.state.runtime.database.engine)
    for _ in range(3):
        await intake.post(complaint_body())
    await intake.relay()

    answer = await intake.erase({"phone": "13908715523"}, intake.admin)

    assert answer.status_code == 202
    path = Path(intake.settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    files = [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    contents = b"".join(p.read_bytes() for p in files)
    # The texts the complaints were written with (the contacts are encrypted: no clear text).
    assert [v for v in FORBIDDEN if v.encode() in contents and v != "Pacific/Auckland"] == []
    assert b"Pacific/Auckland" not in contents
