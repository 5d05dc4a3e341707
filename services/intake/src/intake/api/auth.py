"""Who is calling: a front end with a per-channel API key, or a customer with the tracking
token of their own complaint. Keys are stored as SHA-256 hashes only."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Annotated

from complaint_runtime.database import Database
from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import Depends, Header, Query, Request

from intake.db import ComplaintRepository


@dataclass(frozen=True)
class FrontEnd:
    api_key_id: int
    label: str
    channels: tuple[str, ...]

    def may_post(self, channel: str) -> bool:
        return "*" in self.channels or channel in self.channels


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
            row = await ComplaintRepository(session).api_key_by_hash(key_hash)
        found = FrontEnd(row.id, row.label, tuple(row.channels)) if row else None
        if len(self._entries) > 10_000:
            self._entries.clear()  # bounded: unknown keys must not grow memory forever
        self._entries[key_hash] = (now, found)
        return found


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        kind="unauthorized",
        headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
    )


async def optional_front_end(
    request: Request,
    x_api_key: Annotated[str | None, Header(max_length=200)] = None,
) -> FrontEnd | None:
    if x_api_key is None:
        return None
    cache: ApiKeyCache = request.app.state.api_key_cache
    front_end = await cache.lookup(runtime_of(request).database, hash_api_key(x_api_key))
    if front_end is None:
        raise _unauthorized("The X-API-Key is not valid.")
    return front_end


async def front_end(
    caller: Annotated[FrontEnd | None, Depends(optional_front_end)],
) -> FrontEnd:
    if caller is None:
        raise _unauthorized("Send the channel's API key in the X-API-Key header.")
    return caller


@dataclass(frozen=True)
class Viewer:
    """Either a front end (any complaint) or a customer holding one complaint's token."""

    front_end: FrontEnd | None
    tracking_token: str | None

    def may_view(self, tracking_token_hash: str) -> bool:
        if self.front_end is not None:
            return True
        if self.tracking_token is None:
            return False
        given = hashlib.sha256(self.tracking_token.encode()).hexdigest()
        return hmac.compare_digest(given, tracking_token_hash)


async def viewer(
    caller: Annotated[FrontEnd | None, Depends(optional_front_end)],
    x_tracking_token: Annotated[str | None, Header(max_length=200)] = None,
    token: Annotated[
        str | None, Query(max_length=200, description="The customer's tracking token")
    ] = None,
) -> Viewer:
    tracking = x_tracking_token or token
    if caller is None and tracking is None:
        raise _unauthorized(
            "Send an X-API-Key, or the tracking token (X-Tracking-Token or ?token=)."
        )
    return Viewer(caller, tracking)


FrontEndDep = Annotated[FrontEnd, Depends(front_end)]
ViewerDep = Annotated[Viewer, Depends(viewer)]
