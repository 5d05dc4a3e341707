"""sla-watch's tests get a database migrated by the service's own Alembic scripts, and
tokens from :data:`IDENTITY`, the session's development identity (the ``identity``
fixture): staff tokens from its identity provider, service tokens signed with a service's
own key, all for audience ``sla-watch`` unless a test says otherwise. A module constant,
not only a fixture, because the suites build their request headers at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from fastapi import FastAPI
from sla_watch.config import SlaSettings
from sla_watch.main import MIGRATIONS, create_app

AUDIENCE = "sla-watch"
# Longer than the default 900 s: headers built at import must outlive a slow suite run.
TEST_TOKEN_TTL_S = 24 * 3600
IDENTITY = DevIdentity.generate()  # frozen: the session's keys, one set for every test
NewMigratedSqlite = Callable[[Path], Awaitable[str]]  # the root conftest's migrated_sqlite


def auth_settings() -> dict[str, str]:
    """sla-watch's token settings (``SlaSettings(**auth_settings(), ...)``): every public
    key of the session identity, sla-watch's own private key."""
    return {name.lower(): value for name, value in IDENTITY.env(AUDIENCE).items()}


def bearer(
    *roles: str, subject: str = "u1", team: str | None = None, audience: str = AUDIENCE
) -> dict[str, str]:
    """The headers of a token with ``roles``: for the role ``service``, routing's own token
    (signed with its key); otherwise a staff member's from the development identity provider."""
    if "service" in roles:
        token = IDENTITY.service_token(caller="routing", audience=audience, ttl_s=TEST_TOKEN_TTL_S)
    else:
        token = IDENTITY.token(
            subject=subject, roles=list(roles), team=team, audience=audience, ttl_s=TEST_TOKEN_TTL_S
        )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def identity() -> DevIdentity:
    """The session's development identity: the keys every token of the suite is signed with."""
    return IDENTITY


@pytest.fixture
async def database(migrated_sqlite: NewMigratedSqlite) -> AsyncIterator[Database]:
    db = Database(await migrated_sqlite(MIGRATIONS))
    yield db
    await db.dispose()


@pytest.fixture
async def admin_client(migrated_sqlite: NewMigratedSqlite) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app on a migrated SQLite database, verifying tokens with the
    session identity's public keys (:func:`bearer`'s)."""
    url = await migrated_sqlite(MIGRATIONS)
    app: FastAPI = create_app(
        SlaSettings(
            database_url=url,
            **auth_settings(),
            migrate_on_start=False,
            log_json=False,
            sla_ics_max_bytes=20_000,
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http
    await app.state.runtime.database.dispose()
