"""Front ends' API keys: verified on every request (through a short cache), and created,
listed, rotated and revoked by ``intake-admin`` (:mod:`intake.access.cli`). A key itself is
returned once, when it is made, and never stored: only its SHA-256 hash is."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import NotFound

from intake.access.db import ApiKey, ApiKeyRepository
from intake.access.domain.callers import FrontEnd, hash_api_key, new_api_key
from intake.access.domain.front_ends import (
    ROTATED,
    check_changeable,
    check_name,
    check_revocable,
    check_scopes,
    is_active,
    reason_of,
    stop_time,
)

_MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class _Cached:
    checked_at: float  # monotonic
    front_end: FrontEnd | None
    stops_at: datetime | None  # a key being rotated out: honoured even while cached


class ApiKeyCache:
    """Verified keys for a short while, so a request costs no extra query; a revoked key
    stops working within ``ttl_s``, a key rotated out at the end of its grace period."""

    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self._entries: dict[str, _Cached] = {}

    async def lookup(self, database: Database, key_hash: str) -> FrontEnd | None:
        now = time.monotonic()
        cached = self._entries.get(key_hash)
        if (
            cached is not None
            and now - cached.checked_at < self.ttl_s
            and (cached.stops_at is None or cached.stops_at > datetime.now(UTC))
        ):
            return cached.front_end
        async with database.sessions() as session:
            row = await ApiKeyRepository(session).active_by_hash(key_hash, now=datetime.now(UTC))
        found = front_end_of(row) if row is not None else None
        if len(self._entries) > _MAX_CACHED_KEYS:
            self._entries.clear()  # bounded: unknown keys must not grow memory forever
        self._entries[key_hash] = _Cached(now, found, row.revoked_at if row else None)
        return found


def front_end_of(row: ApiKey) -> FrontEnd:
    return FrontEnd(
        api_key_id=row.id,
        label=row.label,
        channels=tuple(row.channels),
        name=row.front_end,
        scopes=tuple(row.scopes or ()),
    )


async def register_api_key(
    *,
    database: Database,
    label: str,
    channels: list[str],
    front_end: str | None = None,
    scopes: Sequence[str] = (),
    created_by: str | None = None,
) -> str:
    """Store a new key's hash and return the key itself (shown once, never stored).
    ``front_end``: its front end's name (default: the label, as keys made before front
    ends were named). Refusals: ``InvalidInput`` (a name or scope that is not allowed)."""
    name = check_name(front_end if front_end is not None else label)
    known = check_scopes(scopes)
    key = new_api_key()
    async with database.unit_of_work() as uow:
        added = await ApiKeyRepository(uow.session).add(
            key_hash=hash_api_key(key),
            front_end=name,
            label=label,
            channels=channels,
            scopes=list(known),
            created_by=created_by,
        )
        _audit(
            uow,
            by=created_by,
            action="created",
            key_id=added.id,
            after={"front_end": name, "channels": channels, "scopes": list(known)},
        )
    return key


def _audit(
    uow: UnitOfWork, *, by: str | None, action: str, key_id: int, before: Any = None, after: Any
) -> None:
    """A key's change in the audit chain: who, which key (by id), what it may do; never
    the key nor its hash."""
    uow.audit(
        actor=by or "intake-admin",
        action=f"api_key.{action}",
        object_type="api_key",
        object_id=str(key_id),
        before=before,
        after=after,
    )


@dataclass(frozen=True)
class KeyInfo:
    """A key as ``list-api-keys`` shows it: everything but the key and its hash."""

    id: int
    front_end: str
    label: str
    channels: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    revoked_reason: str | None
    rotated_from: int | None
    active: bool


async def list_api_keys(*, database: Database, front_end: str | None = None) -> list[KeyInfo]:
    """Every key (of one front end), revoked ones included, by front end and age."""
    now = datetime.now(UTC)
    async with database.sessions() as session:
        rows = await ApiKeyRepository(session).all(front_end=front_end)
    return [
        KeyInfo(
            id=row.id,
            front_end=row.front_end,
            label=row.label,
            channels=tuple(row.channels),
            scopes=tuple(row.scopes or ()),
            created_at=row.created_at,
            created_by=row.created_by,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            revoked_reason=row.revoked_reason,
            rotated_from=row.rotated_from,
            active=is_active(row.revoked_at, now=now),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class RotatedKey:
    """The new key (shown once), its id, and when the old one stops working."""

    key: str
    key_id: int
    old_key_id: int
    front_end: str
    old_stops_at: datetime


async def rotate_api_key(
    *, database: Database, key_id: int, grace: timedelta, by: str | None
) -> RotatedKey:
    """A new key for the same front end, channels and scopes; the old one keeps working
    for ``grace`` (zero: it stops now). Both in one transaction, the old key locked.
    Refusals: ``NotFound``, ``Conflict`` (revoked, or already rotated out)."""
    now = datetime.now(UTC)
    stops_at = stop_time(now=now, grace=grace)
    key = new_api_key()
    async with database.unit_of_work() as uow:
        repository = ApiKeyRepository(uow.session)
        old = await repository.locked(key_id)
        if old is None:
            raise NotFound(f"There is no API key {key_id}.")
        check_changeable(old.id, old.revoked_at, now=now)
        new = await repository.add(
            key_hash=hash_api_key(key),
            front_end=old.front_end,
            label=old.label,
            channels=list(old.channels),
            scopes=list(old.scopes or ()),
            created_by=by,
            rotated_from=old.id,
        )
        old.revoked_at = stops_at
        old.revoked_by = by
        old.revoked_reason = ROTATED
        _audit(
            uow,
            by=by,
            action="rotated",
            key_id=old.id,
            after={"new_key_id": new.id, "old_stops_at": stops_at.isoformat()},
        )
    return RotatedKey(key, new.id, old.id, new.front_end, stops_at)


async def revoke_api_key(
    *, database: Database, key_id: int, reason: str | None, by: str | None
) -> datetime:
    """The key stops working now (a cached copy within API_KEY_CACHE_S); returns when.
    A key being rotated out may be revoked early. Refusals: ``NotFound``, ``Conflict``
    (already revoked)."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        key = await ApiKeyRepository(uow.session).locked(key_id)
        if key is None:
            raise NotFound(f"There is no API key {key_id}.")
        check_revocable(key.id, key.revoked_at, now=now)
        key.revoked_at = now
        key.revoked_by = by
        key.revoked_reason = reason_of(reason) or key.revoked_reason
        _audit(uow, by=by, action="revoked", key_id=key.id, after={"reason": key.revoked_reason})
    return now
