"""What intake's PostgreSQL connections are doing under load (pg_stat_activity, sampled),
and small queries the bench needs (row counts, settings)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import asyncpg


def plain_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def fetch_value(dsn: str, query: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def value(dsn: str, query: str) -> Any:
    return asyncio.run(fetch_value(dsn, query))


async def _fetch_rows(dsn: str, query: str, *params: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(row) for row in await conn.fetch(query, *params)]
    finally:
        await conn.close()


def fetch_rows(dsn: str, query: str, *params: Any) -> list[dict[str, Any]]:
    return asyncio.run(_fetch_rows(dsn, query, *params))


_ACTIVITY = """
SELECT state, coalesce(wait_event_type, '') AS wtype, coalesce(wait_event, '') AS wevent,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query
FROM pg_stat_activity
WHERE datname = $1 AND application_name = 'complaint-platform' AND pid <> pg_backend_pid()
"""


class ActivitySampler:
    """Samples pg_stat_activity of one database every ``interval_s`` in a thread.

    Reports, per (state, wait event), the average number of intake connections in it,
    and for lock waits which statement was waiting.
    """

    def __init__(self, dsn: str, database: str, interval_s: float = 0.1):
        self.dsn = dsn
        self.database = database
        self.interval_s = interval_s
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.lock_queries: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        n = max(self.samples, 1)
        return {
            "samples": self.samples,
            "avg_connections_by_state": {
                k: round(v / n, 2) for k, v in self.states.most_common() if v / n >= 0.05
            },
            "lock_waits_by_statement": {
                k: round(v / n, 2) for k, v in self.lock_queries.most_common(5)
            },
            "error": self.error,
        }

    async def _run(self) -> None:
        try:
            conn = await asyncpg.connect(self.dsn)
        except Exception as exc:
            self.error = repr(exc)
            return
        try:
            while not self._stop.is_set():
                rows = await conn.fetch(_ACTIVITY, self.database)
                self.samples += 1
                for row in rows:
                    wait = f"{row['wtype']}:{row['wevent']}" if row["wtype"] else "on CPU"
                    state = row["state"] or "?"
                    if state == "idle":
                        self.states["idle (in pool)"] += 1
                        continue
                    self.states[f"{state} / {wait}"] += 1
                    if row["wtype"] == "Lock":
                        self.lock_queries[row["query"]] += 1
                await asyncio.sleep(self.interval_s)
        except Exception as exc:
            self.error = repr(exc)
        finally:
            await conn.close()
