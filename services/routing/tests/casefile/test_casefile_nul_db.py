"""Staff texts with a NUL on the real PostgreSQL, which cannot store NUL in text: the
request is refused with a 422 naming the field (it was a 500 from the failed INSERT), and
nothing is written; the same text without it is stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from complaint_runtime.database import Database
from routing.main import MIGRATIONS

from .conftest import LI, Receive

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]


@pytest.fixture
async def database(postgres_database: NewPostgresDatabase) -> Database:
    """Routing's database on the suite's PostgreSQL (the conftest's is SQLite)."""
    return await postgres_database(MIGRATIONS)


async def test_a_nul_in_a_staff_text_is_a_422_on_postgresql(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    cid = await receive()
    for path, body, pointer in (
        ("notes", {"text": "Customer called\x00 back"}, "/text"),
        ("first-response", {"message": "We are on it\x00"}, "/message"),
    ):
        refused = await client.post(f"/v1/cases/{cid}/{path}", json=body, headers=LI)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert [(e["pointer"], e["code"]) for e in refused.json()["errors"]] == [
            (pointer, "string_nul")
        ]
    stored = await client.post(
        f"/v1/cases/{cid}/notes", json={"text": "Customer called back"}, headers=LI
    )
    assert stored.status_code == 201, stored.text
    case = await client.get(f"/v1/cases/{cid}", headers=LI)
    assert case.json()["status"] == "assigned"  # the refused first response changed nothing
