"""Whose clocks a caller sees: the rule, and the API answering 404 for another team's
complaint exactly as for an unknown one (§10, per object)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from complaint_runtime.migrations import upgrade_to_head
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sla_watch.clocks import complaint_facts, service
from sla_watch.clocks.domain.visibility import ClocksSeen, clocks_seen
from sla_watch.config import SlaSettings
from sla_watch.main import MIGRATIONS, create_app

from ..conftest import auth_settings
from ..conftest import bearer as token_headers
from .test_sla_clocks_api import SETTINGS, cid

ROLES = ("agent", "lead", "manager", "admin", "service")
TEAMS = st.sampled_from(["billing", "privacy", "returns"])


@given(roles=st.sets(st.sampled_from(ROLES)), team=st.none() | TEAMS, case_team=st.none() | TEAMS)
def test_staff_see_their_teams_clocks_and_managers_every_one(
    roles: set[str], team: str | None, case_team: str | None
) -> None:
    seen = clocks_seen(roles=roles, team=team)
    expected = bool({"manager", "admin", "service"} & roles) or (
        bool({"agent", "lead"} & roles) and team is not None and case_team == team
    )
    assert seen.admits(case_team) is expected


def test_a_token_without_a_team_claim_sees_no_teams_clocks() -> None:
    assert clocks_seen(roles={"lead"}, team=None) == ClocksSeen(everything=False, team=None)
    assert not clocks_seen(roles={"agent"}, team=None).admits(None)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path}/visibility.db"
    await upgrade_to_head(MIGRATIONS, url)
    application = create_app(
        SlaSettings(database_url=url, **auth_settings(), migrate_on_start=False, log_json=False)
    )
    yield application
    await application.state.runtime.database.dispose()


def bearer(role: str, team: str | None) -> dict[str, str]:
    return token_headers(role, subject=f"{role}-1", team=team)


async def test_another_teams_clocks_are_answered_like_unknown_ones(app: FastAPI) -> None:
    db = app.state.runtime.database
    async with db.unit_of_work() as uow:
        await service.start_clocks(
            uow=uow,
            settings=SETTINGS,
            complaint_id=cid(7),
            priority="P2",
            at=datetime.now(UTC) - timedelta(seconds=60),
        )
        await complaint_facts.set_team(uow=uow, complaint_id=cid(7), team="billing")
    path = f"/v1/complaints/{cid(7)}/clocks"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        seen = {
            (role, team): (await client.get(path, headers=bearer(role, team))).status_code
            for role, team in [
                ("agent", "billing"),
                ("lead", "billing"),
                ("agent", "privacy"),
                ("lead", "privacy"),
                ("lead", None),
                ("manager", None),
                ("service", None),
            ]
        }
        other = await client.get(path, headers=bearer("agent", "privacy"))
        unknown = await client.get(
            f"/v1/complaints/{cid(8)}/clocks", headers=bearer("agent", "privacy")
        )
    assert seen == {
        ("agent", "billing"): 200,
        ("lead", "billing"): 200,
        ("agent", "privacy"): 404,
        ("lead", "privacy"): 404,
        ("lead", None): 404,
        ("manager", None): 200,
        ("service", None): 200,
    }
    assert other.json() | {"instance": ""} == unknown.json() | {"instance": ""}
