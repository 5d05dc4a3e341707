"""A private PostgreSQL cluster: unprivileged user, databases, stop/start and crash recovery."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
import pytest
from complaint_devinfra import LocalPostgres, PostgresEndpoint


def _dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


@pytest.fixture
def local_pg(local_postgres: PostgresEndpoint) -> LocalPostgres:
    if not isinstance(local_postgres, LocalPostgres):
        pytest.skip("external PostgreSQL cannot be stopped by the test")
    return local_postgres


def test_runs_unprivileged_with_fsync_on(local_pg: LocalPostgres) -> None:
    assert local_pg.pid is not None
    if os.geteuid() == 0:
        assert local_pg.os_user is not None
        assert _uid_of(local_pg.pid) != 0
    assert local_pg.log_path is not None
    assert local_pg.log_path.is_file()


async def test_two_databases_survive_stop_and_start(local_pg: LocalPostgres) -> None:
    suffix = uuid.uuid4().hex[:8]
    url_a = local_pg.create_database(f"intake_{suffix}")
    url_b = local_pg.create_database(f"routing_{suffix}")
    assert url_a == f"postgresql+asyncpg://postgres@127.0.0.1:{local_pg.port}/intake_{suffix}"
    assert local_pg.create_database(f"intake_{suffix}") == url_a  # idempotent

    for url, value in ((url_a, "a"), (url_b, "b")):
        conn = await asyncpg.connect(_dsn(url))
        try:
            assert await conn.fetchval("SHOW fsync") == "on"
            await conn.execute("CREATE TABLE t (v text)")
            await conn.execute("INSERT INTO t VALUES ($1)", value)
        finally:
            await conn.close()

    port = local_pg.port
    local_pg.stop()
    assert not local_pg.is_running
    with pytest.raises(OSError):  # noqa: PT011 (refused or unreachable: either OSError)
        await asyncpg.connect(_dsn(url_a), timeout=2)
    local_pg.start()
    assert local_pg.port == port

    for url, value in ((url_a, "a"), (url_b, "b")):
        conn = await asyncpg.connect(_dsn(url))
        try:
            assert await conn.fetchval("SELECT v FROM t") == value
        finally:
            await conn.close()


async def test_committed_rows_survive_a_crash(local_pg: LocalPostgres) -> None:
    url = local_pg.create_database(f"crash_{uuid.uuid4().hex[:8]}")
    conn = await asyncpg.connect(_dsn(url))
    await conn.execute("CREATE TABLE t (v int); INSERT INTO t VALUES (42)")

    local_pg.kill()
    with pytest.raises((asyncpg.PostgresError, OSError, asyncpg.InterfaceError)):
        await conn.fetchval("SELECT 1")
    conn.terminate()
    local_pg.start()

    conn = await asyncpg.connect(_dsn(url))
    try:
        assert await conn.fetchval("SELECT v FROM t") == 42
    finally:
        await conn.close()
