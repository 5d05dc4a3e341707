"""Front ends' keys over their life: created for a front end with scopes, listed (never the
key), rotated within the front end (the old key kept for a grace period or stopped at
once), revoked; who and when recorded with each change; and ``intake-admin``'s commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.errors import Conflict, InvalidInput, NotFound
from complaint_runtime.migrations import upgrade_to_head
from intake import cli
from intake.access.db import ApiKey
from intake.access.domain.callers import hash_api_key
from intake.access.domain.front_ends import ERASURE, READ_ALL, check_name, check_scopes
from intake.access.service import (
    ApiKeyCache,
    list_api_keys,
    register_api_key,
    revoke_api_key,
    rotate_api_key,
)
from intake.main import MIGRATIONS
from sqlalchemy import select


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    db = Database(url)
    yield db
    await db.dispose()


async def _row(database: Database, key_id: int) -> ApiKey:
    async with database.sessions() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    assert row is not None
    return row


@pytest.mark.parametrize("name", ["web-shop", "call-centre", "partner.x_2", "call centre"])
def test_front_end_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", " web", "web ", "a:b", "web\nshop", "x" * 101])
def test_names_that_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_name(name)


def test_scopes_are_known_ones_in_a_stable_order() -> None:
    assert check_scopes([READ_ALL, ERASURE, READ_ALL]) == (READ_ALL, ERASURE)
    assert check_scopes([]) == ()
    with pytest.raises(InvalidInput) as refused:
        check_scopes(["complaints:write-all"])
    assert refused.value.errors is not None
    assert refused.value.errors[0]["field"] == "scopes"


async def test_a_key_is_made_for_a_front_end_with_its_scopes(database: Database) -> None:
    key = await register_api_key(
        database=database,
        label="web shop, production",
        channels=["web", "app"],
        front_end="web-shop",
        scopes=[ERASURE],
        created_by="ops-li",
    )
    found = await ApiKeyCache(ttl_s=0).lookup(database, hash_api_key(key))
    assert found is not None
    assert (found.name, found.label, found.channels, found.scopes) == (
        "web-shop",
        "web shop, production",
        ("web", "app"),
        (ERASURE,),
    )
    [info] = await list_api_keys(database=database)
    assert (info.front_end, info.created_by, info.active, info.revoked_at) == (
        "web-shop",
        "ops-li",
        True,
        None,
    )
    with pytest.raises(InvalidInput):
        await register_api_key(database=database, label="x", channels=["*"], front_end="a:b")
    with pytest.raises(InvalidInput):
        await register_api_key(database=database, label="x", channels=["*"], scopes=["root"])


async def test_rotation_keeps_front_end_channels_and_scopes(database: Database) -> None:
    old_key = await register_api_key(
        database=database, label="crm", channels=["web"], front_end="crm", scopes=[READ_ALL]
    )
    [old] = await list_api_keys(database=database)
    before = datetime.now(UTC)
    rotated = await rotate_api_key(
        database=database, key_id=old.id, grace=timedelta(hours=24), by="ops-li"
    )
    assert rotated.key != old_key
    assert rotated.front_end == "crm"
    assert before + timedelta(hours=24) <= rotated.old_stops_at
    assert rotated.old_stops_at <= datetime.now(UTC) + timedelta(hours=24)
    new = await _row(database, rotated.key_id)
    assert (new.front_end, new.label, new.channels, new.scopes) == (
        "crm",
        "crm",
        ["web"],
        [READ_ALL],
    )
    assert (new.rotated_from, new.created_by) == (old.id, "ops-li")
    retired = await _row(database, old.id)
    assert (retired.revoked_by, retired.revoked_reason) == ("ops-li", "rotated")
    cache = ApiKeyCache(ttl_s=0)
    assert await cache.lookup(database, hash_api_key(old_key)) is not None  # grace period
    assert await cache.lookup(database, hash_api_key(rotated.key)) is not None
    states = {k.id: k.active for k in await list_api_keys(database=database, front_end="crm")}
    assert states == {old.id: True, rotated.key_id: True}


async def test_rotation_without_grace_stops_the_old_key_now(database: Database) -> None:
    old_key = await register_api_key(database=database, label="web", channels=["*"])
    [old] = await list_api_keys(database=database)
    await rotate_api_key(database=database, key_id=old.id, grace=timedelta(0), by=None)
    assert await ApiKeyCache(ttl_s=0).lookup(database, hash_api_key(old_key)) is None


async def test_what_cannot_be_rotated_or_revoked(database: Database) -> None:
    await register_api_key(database=database, label="web", channels=["*"])
    [key] = await list_api_keys(database=database)
    with pytest.raises(NotFound):
        await rotate_api_key(database=database, key_id=999, grace=timedelta(0), by=None)
    with pytest.raises(NotFound):
        await revoke_api_key(database=database, key_id=999, reason=None, by=None)
    rotated = await rotate_api_key(
        database=database, key_id=key.id, grace=timedelta(hours=1), by=None
    )
    with pytest.raises(Conflict, match="already being rotated out"):
        await rotate_api_key(database=database, key_id=key.id, grace=timedelta(0), by=None)
    # Revoking a key in its grace period ends it early; the reason it was retired stays.
    await revoke_api_key(database=database, key_id=key.id, reason=None, by="ops")
    assert (await _row(database, key.id)).revoked_reason == "rotated"
    with pytest.raises(Conflict, match="already revoked"):
        await revoke_api_key(database=database, key_id=key.id, reason="again", by=None)
    with pytest.raises(Conflict, match="already revoked"):
        await rotate_api_key(database=database, key_id=key.id, grace=timedelta(0), by=None)
    await revoke_api_key(database=database, key_id=rotated.key_id, reason="  leaked ", by="ops")
    revoked = await _row(database, rotated.key_id)
    assert (revoked.revoked_reason, revoked.revoked_by) == ("leaked", "ops")
    assert not any(k.active for k in await list_api_keys(database=database))


def test_the_admin_commands_print_a_key_only_when_they_make_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert (
        cli.main(
            [
                "create-api-key",
                "--front-end",
                "web-shop",
                "--channels",
                "web,app",
                "--scope",
                ERASURE,
                "--by",
                "ops-li",
            ]
        )
        == 0
    )
    key = capsys.readouterr().out.strip()
    assert key.startswith("ck_")
    assert cli.main(["list-api-keys"]) == 0
    listing = capsys.readouterr().out
    assert key not in listing
    assert hash_api_key(key) not in listing
    header, line = listing.strip().splitlines()
    assert header.split("\t")[:5] == ["id", "front_end", "state", "channels", "scopes"]
    assert line.split("\t")[:6] == ["1", "web-shop", "active", "web,app", ERASURE, "web-shop"]
    assert "by ops-li" in line

    assert cli.main(["rotate-api-key", "--id", "1", "--grace-hours", "2", "--by", "ops-li"]) == 0
    rotated = capsys.readouterr()
    new_key = rotated.out.strip()
    assert new_key.startswith("ck_")
    assert new_key != key
    assert "API key 2 of web-shop replaces key 1" in rotated.err
    assert cli.main(["revoke-api-key", "--id", "1", "--reason", "leaked"]) == 0
    capsys.readouterr()
    assert cli.main(["revoke-api-key", "--id", "1"]) == 1
    assert "already revoked" in capsys.readouterr().err
    assert cli.main(["list-api-keys", "--front-end", "web-shop"]) == 0
    listing = capsys.readouterr().out
    assert new_key not in listing
    states = [line.split("\t")[2] for line in listing.strip().splitlines()[1:]]
    assert states == ["revoked", "active"]

    assert cli.main(["create-api-key", "--front-end", "a:b"]) == 1
    assert "front end's name" in capsys.readouterr().err
    assert cli.main(["create-api-key", "--front-end", "x", "--channels", "fax"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["create-api-key", "--front-end", "x", "--scope", "root"])


async def test_key_changes_go_to_the_audit_chain_without_the_key(database: Database) -> None:
    from complaint_runtime.audit import links_after, verify_chain

    made = await register_api_key(
        database=database, label="crm", channels=["web"], front_end="crm", created_by="ops-li"
    )
    [old] = await list_api_keys(database=database)
    rotated = await rotate_api_key(
        database=database, key_id=old.id, grace=timedelta(0), by="ops-li"
    )
    await revoke_api_key(database=database, key_id=rotated.key_id, reason="leaked", by="ops-wu")
    entries = [e for link in await links_after(database) for e in link.entries]
    assert [(e["action"], e["actor"], e["object_id"]) for e in entries] == [
        ("api_key.created", "ops-li", str(old.id)),
        ("api_key.rotated", "ops-li", str(old.id)),
        ("api_key.revoked", "ops-wu", str(rotated.key_id)),
    ]
    assert entries[0]["after"] == {"front_end": "crm", "channels": ["web"], "scopes": []}
    recorded = str(entries)
    for secret in (made, rotated.key, hash_api_key(made), hash_api_key(rotated.key)):
        assert secret not in recorded
    assert (await verify_chain(database)).ok
