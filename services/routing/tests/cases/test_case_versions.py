"""Stale-form protection: every change to a case moves its version on, every staff command
takes ``If-Match``: fresh → acts, stale → 409 ``stale-case`` with what changed and nothing
changed, malformed → 422; without the header, commands act as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.events import (
    ComplaintEscalated,
    CustomerMessageReceived,
    SlaClockStarted,
    SlaWarning,
)
from complaint_runtime.database import Database
from complaint_runtime.errors import InvalidInput
from routing.casefile.api import router as case_file_router
from routing.cases.api import router, transfer_router
from routing.cases.domain.versions import etag, is_stale, parse_if_match
from routing.db import CaseAction
from sqlalchemy import func, select

from ..conftest import staff_auth as auth

NOW = datetime.now(UTC)
SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}


LI = auth("agent-li", "agent", team="billing")
LEAD = auth("lead-zhao", "lead", team="billing")


def at(version: int | str, headers: dict[str, str] = LI) -> dict[str, str]:
    return {**headers, "If-Match": version if isinstance(version, str) else etag(version)}


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed(
        [
            {"id": "agent-li", "team": "billing", "capacity": 10},
            {"id": "agent-wang", "team": "billing", "capacity": 5, "categories": ["other"]},
        ]
    )
    async with api_client(router, transfer_router, case_file_router) as c:
        yield c


async def _version(client: httpx.AsyncClient, cid: str) -> int:
    response = await client.get(f"/v1/cases/{cid}", headers=LEAD)
    assert response.headers["ETag"] == etag(response.json()["version"])
    version: int = response.json()["version"]
    return version


async def _history(database: Database, cid: str) -> int:
    async with database.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(CaseAction).where(CaseAction.complaint_id == cid)
        )
    return int(count or 0)


def _stale(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/stale-case"), body
    return body


# -- the pure rule


def test_if_match_names_one_version() -> None:
    assert parse_if_match(None) is None
    assert parse_if_match("*") is None
    assert parse_if_match('"7"') == 7
    assert parse_if_match(" 12 ") == 12
    for malformed in ("", '"7', "7a", 'W/"7"', '"1", "2"', "-1", "1.0", '""', "1" * 10):
        with pytest.raises(InvalidInput) as refused:
            parse_if_match(malformed)
        assert refused.value.errors is not None
        assert refused.value.errors[0]["field"] == "If-Match"
        assert refused.value.errors[0]["in"] == "header"
    assert etag(7) == '"7"'
    assert not is_stale(expected=None, current=3)
    assert not is_stale(expected=3, current=3)
    assert is_stale(expected=2, current=3)
    assert is_stale(expected=4, current=3)


# -- what moves the version


async def test_every_change_moves_the_version_and_bookkeeping_does_not(
    client: httpx.AsyncClient, new_case: Any, feed: Any
) -> None:
    cid = await new_case()
    assert await _version(client, cid) == 3  # received, triaged, assigned
    # A clock ticking, a customer message on a case not waiting for one, a note: no change.
    due = NOW + timedelta(hours=4)
    clock = {"complaint_id": cid, "clock_id": "clk-1", "metric": "resolution"}
    await feed(
        SlaClockStarted(
            **clock,
            target_seconds=14_400,
            started_at=NOW,
            due_at=due,
            calendar_id="24x7",
            policy_id="default-P3",
            priority="P3",
        )
    )
    await feed(
        SlaWarning(**clock, percent=50, reached_at=NOW, due_at=due, late=False, priority="P3")
    )
    await feed(
        CustomerMessageReceived(
            complaint_id=cid,
            message_id="m-1",
            channel="app",
            customer_ref="cr",
            text="any news?",
            received_at=NOW,
        )
    )
    assert (await client.post(f"/v1/cases/{cid}/notes", json={"text": "n"}, headers=LI)).is_success
    seen = (await client.get(f"/v1/cases/{cid}", headers=LI)).json()
    assert (seen["sla"]["state"], len(seen["conversation"])) == ("at_risk", 2)  # all applied
    assert await _version(client, cid) == 3
    # Each command, the escalation level and a recategorisation: one more each.
    steps = [
        ("first-response", {"message": "on it"}),
        ("replies", {"message": "more"}),
        ("awaiting-customer", {"reason": "receipt?"}),
        ("resume", None),
    ]
    version = 3
    for path, body in steps:
        response = await client.post(f"/v1/cases/{cid}/{path}", json=body, headers=at(version))
        assert response.status_code == 200, response.text
        version += 1
        assert response.json()["version"] == version
        assert response.headers["ETag"] == etag(version)
    await feed(
        ComplaintEscalated(
            complaint_id=cid,
            level=1,
            previous_level=0,
            trigger="resolution_breach",
            reason="breached",
            actor="sla-watch",
        )
    )
    assert await _version(client, cid) == version + 1


async def test_fresh_if_match_acts_on_every_command(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    commands: list[tuple[str, dict[str, Any] | None, dict[str, str]]] = [
        ("first-response", {"message": "on it"}, LI),
        ("replies", {"message": "more"}, LI),
        ("awaiting-customer", {"reason": "receipt?"}, LI),
        ("resume", None, LI),
        ("recategorize", {"priority": "P2", "reason": "angry"}, LEAD),
        ("reassign", {"assignee": "agent-wang", "reason": "load"}, LEAD),
        ("transfer", {"assignee": "agent-li", "reason": "back"}, LEAD),
        ("resolve", SOLUTION, LI),
    ]
    for path, body, headers in commands:
        version = await _version(client, cid)
        response = await client.post(
            f"/v1/cases/{cid}/{path}", json=body, headers=at(version, headers)
        )
        assert response.status_code == 200, (path, response.text)
        assert response.json()["version"] == version + 1
    # "*" and no header: no precondition.
    other = await new_case()
    response = await client.post(f"/v1/cases/{other}/first-response", headers=at("*"))
    assert response.status_code == 200, response.text
    response = await client.post(f"/v1/cases/{other}/replies", json={"message": "x"}, headers=LI)
    assert response.status_code == 200, response.text


async def test_a_stale_command_is_a_409_listing_what_changed_and_changes_nothing(
    database: Database, client: httpx.AsyncClient, new_case: Any, outbox: Any
) -> None:
    cid = await new_case()
    drawn = await _version(client, cid)  # the agent opens the form at version 3
    # Meanwhile: a first response by the agent, a note and a lead's recategorisation.
    assert (await client.post(f"/v1/cases/{cid}/first-response", headers=LI)).is_success
    assert (
        await client.post(f"/v1/cases/{cid}/notes", json={"text": "n"}, headers=LEAD)
    ).is_success
    recategorized = await client.post(
        f"/v1/cases/{cid}/recategorize", json={"priority": "P2", "reason": "vip"}, headers=LEAD
    )
    assert recategorized.is_success
    current = await _version(client, cid)
    assert current == drawn + 2
    events, history = len(await outbox(cid)), await _history(database, cid)
    case_before = (await client.get(f"/v1/cases/{cid}", headers=LEAD)).json()

    stale_commands: list[tuple[str, dict[str, Any] | None, dict[str, str]]] = [
        ("replies", {"message": "hello"}, LI),
        ("awaiting-customer", {"reason": "receipt?"}, LI),
        ("resolve", SOLUTION, LI),
        ("reassign", {"assignee": "agent-wang", "reason": "load"}, LEAD),
        ("transfer", {"assignee": "agent-wang", "reason": "load"}, LEAD),
        ("recategorize", {"priority": "P4", "reason": "calm"}, LEAD),
        ("notes", {"text": "late"}, LI),
    ]
    for path, body, headers in stale_commands:
        problem = _stale(
            await client.post(f"/v1/cases/{cid}/{path}", json=body, headers=at(drawn, headers))
        )
        assert problem["current_version"] == current
        assert problem["expected_version"] == drawn
        assert [(c["action"], c["actor"], c["version"]) for c in problem["changes"]] == [
            ("first_response_sent", "agent-li", drawn + 1),
            ("note_added", "lead-zhao", drawn + 1),
            ("recategorized", "lead-zhao", drawn + 2),
        ]
        assert all(datetime.fromisoformat(c["at"]) for c in problem["changes"])
    # A version from the future is not the case's either.
    _stale(
        await client.post(
            f"/v1/cases/{cid}/replies", json={"message": "x"}, headers=at(current + 5)
        )
    )
    # Nothing changed: no event, no history entry, no message, the same case.
    assert len(await outbox(cid)) == events
    assert await _history(database, cid) == history
    assert (await client.get(f"/v1/cases/{cid}", headers=LEAD)).json() == case_before
    # With the current version the same command goes through.
    response = await client.post(
        f"/v1/cases/{cid}/replies", json={"message": "hello"}, headers=at(current)
    )
    assert response.status_code == 200, response.text


async def test_a_malformed_if_match_is_a_422_before_anything_else(
    database: Database, client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    history = await _history(database, cid)
    for value in ("abc", 'W/"3"', '"3", "4"', '"3'):
        for path, body in (
            ("first-response", None),
            ("resume", None),
            ("notes", {"text": "x"}),
            ("recategorize", {"priority": "P2", "reason": "x"}),
        ):
            headers = at(value, LEAD if path == "recategorize" else LI)
            response = await client.post(f"/v1/cases/{cid}/{path}", json=body, headers=headers)
            assert response.status_code == 422, (path, value, response.text)
            problem = response.json()
            assert problem["errors"][0]["field"] == "If-Match"
            assert problem["errors"][0]["in"] == "header"
    assert await _history(database, cid) == history
    assert await _version(client, cid) == 3


async def test_stale_comes_after_404_and_403_and_before_the_state_machine(
    client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    # Unknown case: 404 whatever the version; someone else's case: 403.
    response = await client.post("/v1/cases/nope/resume", headers=at(1))
    assert response.status_code == 404
    other = auth("agent-wang", "agent", team="billing")
    response = await client.post(f"/v1/cases/{cid}/first-response", headers=at(1, other))
    assert response.status_code == 403
    # A stale resume of an assigned case: the form was wrong, not (only) the command.
    _stale(await client.post(f"/v1/cases/{cid}/resume", headers=at(1)))
    # Fresh but illegal in the state: the state machine's 409.
    response = await client.post(f"/v1/cases/{cid}/resume", headers=at(3))
    assert response.status_code == 409
    assert response.json()["type"].endswith("/illegal-transition")


async def test_empty_or_oversized_answers_are_422_naming_the_field(
    database: Database, client: httpx.AsyncClient, new_case: Any
) -> None:
    cid = await new_case()
    history = await _history(database, cid)
    for path in ("first-response", "replies"):
        for message in ("", "   ", "x" * 2001, "很" * 20_000):
            response = await client.post(
                f"/v1/cases/{cid}/{path}", json={"message": message}, headers=LI
            )
            assert response.status_code == 422, (path, response.text)
            assert [e["field"] for e in response.json()["errors"]] == ["message"]
    assert await _history(database, cid) == history
