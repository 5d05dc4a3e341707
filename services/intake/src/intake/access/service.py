"""Front ends' API keys: verified on every request (through a short cache), and created by
``intake-admin create-api-key``."""

from __future__ import annotations

import time

from complaint_runtime.database import Database

from intake.access.db import ApiKeyRepository
from intake.access.domain.callers import FrontEnd, hash_api_key, new_api_key

_MAX_CACHED_KEYS = 10_000


class ApiKeyCache:
    """Verified keys for a short while, so a request costs no extra query; a revoked key
    stops working within ``ttl_s``."""

    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, FrontEnd | None]] = {}

    async def lookup(self, database: Database, key_hash: str) -> FrontEnd | None:
        now = time.monotonic()
        cached = self._entries.get(key_hash)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        async with database.sessions() as session:
            row = await ApiKeyRepository(session).active_by_hash(key_hash)
        found = FrontEnd(row.id, row.label, tuple(row.channels)) if row else None
        if len(self._entries) > _MAX_CACHED_KEYS:
            self._entries.clear()  # bounded: unknown keys must not grow memory forever
        self._entries[key_hash] = (now, found)
        return found


async def register_api_key(*, database: Database, label: str, channels: list[str]) -> str:
    """Store a new key's hash and return the key itself (shown once, never stored)."""
    key = new_api_key()
    async with database.unit_of_work() as uow:
        ApiKeyRepository(uow.session).add(
            key_hash=hash_api_key(key), label=label, channels=channels
        )
    return key
