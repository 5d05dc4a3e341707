"""Front ends by API key (cached, revocable, bound to their front end's complaints of their
channels), customers by their complaint's tracking token."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.testing import sqlite_database
from intake.access.db import ApiKey
from intake.access.domain.callers import FrontEnd, Viewer, hash_api_key
from intake.access.domain.front_ends import ERASURE, READ_ALL
from intake.access.service import ApiKeyCache
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

WEB = FrontEnd(api_key_id=1, label="web shop", channels=("web", "app"), name="web-shop")
EVERYTHING = FrontEnd(api_key_id=2, label="call centre", channels=("*",), name="call-centre")
CRM = FrontEnd(3, "crm", ("web", "phone"), name="crm", scopes=(READ_ALL,))


@dataclass(frozen=True)
class Row:
    """What the reach of a caller is decided on, as a ``complaints`` row holds it."""

    channel: str = "web"
    front_end: str | None = "web-shop"
    tracking_token_hash: str = ""


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


def test_a_key_made_before_front_ends_were_named_is_its_labels() -> None:
    assert FrontEnd(4, "legacy label", ("*",)).name == "legacy label"
    assert WEB.name == "web-shop"


def test_scopes() -> None:
    assert CRM.has_scope(READ_ALL)
    assert not CRM.has_scope(ERASURE)
    assert not WEB.has_scope(READ_ALL)


def test_customer_sees_the_complaint_of_their_token() -> None:
    assert Viewer(None, "token-abc").may_view(Row(tracking_token_hash=_sha256("token-abc")))


def test_customer_with_another_token_sees_nothing() -> None:
    assert not Viewer(None, "token-abc").may_view(Row(tracking_token_hash=_sha256("token-abd")))
    # the hash, not the token
    assert not Viewer(None, "token-abc").may_view(Row(tracking_token_hash="token-abc"))
    assert not Viewer(None, "").may_view(Row(tracking_token_hash=_sha256("token-abc")))


def test_nobody_without_a_token_sees_nothing() -> None:
    assert not Viewer(None, None).may_view(Row(tracking_token_hash=_sha256("token-abc")))


def test_a_key_reaches_its_own_front_ends_complaints_of_its_channels() -> None:
    assert Viewer(WEB, None).may_view(Row(channel="web", front_end="web-shop"))
    assert Viewer(WEB, None).may_view(Row(channel="app", front_end="web-shop"))


def test_a_key_does_not_reach_another_front_ends_complaint() -> None:
    assert not Viewer(WEB, None).may_view(Row(channel="web", front_end="partner-x"))
    assert not Viewer(EVERYTHING, None).may_view(Row(channel="web", front_end="web-shop"))


def test_a_key_does_not_reach_its_front_ends_complaint_on_another_channel() -> None:
    # e.g. its channels were narrowed since: the key is bound to them
    assert not Viewer(WEB, None).may_view(Row(channel="phone", front_end="web-shop"))


def test_a_complaint_from_before_front_ends_were_recorded_needs_read_all() -> None:
    assert not Viewer(EVERYTHING, None).may_view(Row(channel="phone", front_end=None))
    assert Viewer(CRM, None).may_view(Row(channel="phone", front_end=None))


def test_read_all_reaches_every_complaint_of_its_channels_only() -> None:
    assert Viewer(CRM, None).may_view(Row(channel="phone", front_end="call-centre"))
    assert Viewer(CRM, None).may_view(Row(channel="web", front_end="web-shop"))
    assert not Viewer(CRM, None).may_view(Row(channel="app", front_end="web-shop"))


def test_with_a_key_the_key_decides_alone() -> None:
    token = "token-abc"
    theirs = Row(channel="web", front_end="partner-x", tracking_token_hash=_sha256(token))
    assert Viewer(None, token).may_view(theirs)
    assert not Viewer(WEB, token).may_view(theirs)


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
                ApiKey(
                    key_hash=hash_api_key("web-key"),
                    label="web shop",
                    front_end="web-shop",
                    channels=["web"],
                    scopes=[ERASURE],
                ),
                ApiKey(
                    key_hash=hash_api_key("old-key"),
                    label="revoked",
                    front_end="revoked",
                    channels=["*"],
                    revoked_at=datetime(2026, 1, 1, tzinfo=UTC),
                ),
                ApiKey(
                    key_hash=hash_api_key("leaving-key"),
                    label="rotated out",
                    front_end="web-shop",
                    channels=["web"],
                    revoked_at=datetime.now(UTC) + timedelta(hours=1),
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
    assert (found.name, found.scopes) == ("web-shop", (ERASURE,))
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


async def test_a_key_being_rotated_out_works_until_its_end(database: Database) -> None:
    found = await ApiKeyCache(ttl_s=60).lookup(database, hash_api_key("leaving-key"))
    assert found is not None
    assert found.name == "web-shop"


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


async def test_a_cached_key_stops_at_the_end_of_its_grace_period(database: Database) -> None:
    """The cache keeps a rotated key's end: it does not serve it past that, however long
    its entry would otherwise live."""
    counting = CountingDatabase(database)
    cache = ApiKeyCache(ttl_s=3600)
    key_hash = hash_api_key("leaving-key")
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(ApiKey)
            .where(ApiKey.key_hash == key_hash)
            .values(revoked_at=datetime.now(UTC) + timedelta(seconds=0.2))
        )
    assert await cache.lookup(counting, key_hash) is not None
    await asyncio.sleep(0.25)
    assert await cache.lookup(counting, key_hash) is None
    assert counting.lookups == 2
