"""Front ends by API key (cached, revocable), customers by their complaint's tracking token."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.testing import sqlite_database
from intake.access.db import ApiKey
from intake.access.domain.callers import FrontEnd, Viewer, hash_api_key
from intake.access.service import ApiKeyCache
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

WEB = FrontEnd(api_key_id=1, label="web shop", channels=("web", "app"))
EVERYTHING = FrontEnd(api_key_id=2, label="call centre", channels=("*",))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(("channel", "allowed"), [("web", True), ("app", True), ("phone", False)])
def test_front_end_posts_only_for_its_channels(channel: str, allowed: bool) -> None:
    assert WEB.may_post(channel) is allowed


@pytest.mark.parametrize("channel", ["web", "phone", "wechat", "other"])
def test_wildcard_front_end_posts_for_every_channel(channel: str) -> None:
    assert EVERYTHING.may_post(channel)


def test_front_end_without_channels_posts_nothing() -> None:
    assert not FrontEnd(3, "none", ()).may_post("web")


def test_customer_sees_the_complaint_of_their_token() -> None:
    assert Viewer(None, "token-abc").may_view(_sha256("token-abc"))


def test_customer_with_another_token_sees_nothing() -> None:
    assert not Viewer(None, "token-abc").may_view(_sha256("token-abd"))
    assert not Viewer(None, "token-abc").may_view("token-abc")  # the hash, not the token
    assert not Viewer(None, "").may_view(_sha256("token-abc"))


def test_nobody_without_a_token_sees_nothing() -> None:
    assert not Viewer(None, None).may_view(_sha256("token-abc"))


def test_front_end_sees_every_complaint() -> None:
    assert Viewer(WEB, None).may_view(_sha256("anything"))
    assert Viewer(WEB, "wrong").may_view(_sha256("anything"))


def test_hash_api_key() -> None:
    assert hash_api_key("secret") == _sha256("secret")
    assert hash_api_key("secret") != hash_api_key("Secret")


class CountingDatabase:
    """A real SQLite database that counts the sessions opened for lookups."""

    def __init__(self, database: Database):
        self.database = database
        self.lookups = 0

    def sessions(self) -> AsyncSession:
        self.lookups += 1
        return self.database.sessions()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "t.db", "intake")
    async with db.unit_of_work() as uow:
        uow.session.add_all(
            [
                ApiKey(key_hash=hash_api_key("web-key"), label="web shop", channels=["web"]),
                ApiKey(
                    key_hash=hash_api_key("old-key"),
                    label="revoked",
                    channels=["*"],
                    revoked_at=datetime(2026, 1, 1, tzinfo=UTC),
                ),
            ]
        )
    yield db
    await db.dispose()


async def test_lookup_finds_a_key_and_caches_it(database: Database) -> None:
    counting = CountingDatabase(database)
    cache = ApiKeyCache(ttl_s=60)

    found = await cache.lookup(counting, hash_api_key("web-key"))
    assert found is not None
    assert (found.label, found.channels) == ("web shop", ("web",))
    assert counting.lookups == 1

    for _ in range(5):
        assert await cache.lookup(counting, hash_api_key("web-key")) == found
    assert counting.lookups == 1


async def test_unknown_and_revoked_keys_are_refused_and_cached(database: Database) -> None:
    counting = CountingDatabase(database)
    cache = ApiKeyCache(ttl_s=60)
    assert await cache.lookup(counting, hash_api_key("nope")) is None
    assert await cache.lookup(counting, hash_api_key("old-key")) is None
    assert counting.lookups == 2
    assert await cache.lookup(counting, hash_api_key("nope")) is None
    assert counting.lookups == 2


async def test_each_key_is_cached_separately(database: Database) -> None:
    counting = CountingDatabase(database)
    cache = ApiKeyCache(ttl_s=60)
    await cache.lookup(counting, hash_api_key("web-key"))
    await cache.lookup(counting, hash_api_key("nope"))
    await cache.lookup(counting, hash_api_key("web-key"))
    assert counting.lookups == 2


async def test_revocation_takes_effect_after_the_ttl(database: Database) -> None:
    counting = CountingDatabase(database)
    cache = ApiKeyCache(ttl_s=0.2)
    key_hash = hash_api_key("web-key")
    assert await cache.lookup(counting, key_hash) is not None

    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(ApiKey).where(ApiKey.key_hash == key_hash).values(revoked_at=datetime.now(UTC))
        )
    assert await cache.lookup(counting, key_hash) is not None
    assert counting.lookups == 1

    await asyncio.sleep(0.25)
    assert await cache.lookup(counting, key_hash) is None
    assert counting.lookups == 2
