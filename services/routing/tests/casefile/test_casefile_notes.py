"""POST /v1/cases/{id}/notes: internal notes in the conversation (flagged internal, in time
order), in the history, never an event; who may write one; bad input; erasure."""

from __future__ import annotations

from typing import Any

import httpx
from complaint_contracts.events import ErasureRequested
from complaint_runtime.database import Database
from routing.casefile.db import CaseMessage
from routing.db import CaseAction
from sqlalchemy import func, select

from .conftest import (
    ADMIN,
    BILLING_LEAD,
    LI,
    MANAGER,
    NOW,
    QUALITY_LEAD,
    SERVICE,
    WANG,
    Receive,
    auth,
)


async def _note(
    client: httpx.AsyncClient, cid: str, text: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(f"/v1/cases/{cid}/notes", json={"text": text}, headers=headers)


async def _counts(database: Database, cid: str) -> tuple[int, int]:
    async with database.sessions() as session:
        messages = await session.scalar(
            select(func.count()).select_from(CaseMessage).where(CaseMessage.complaint_id == cid)
        )
        actions = await session.scalar(
            select(func.count()).select_from(CaseAction).where(CaseAction.complaint_id == cid)
        )
    return int(messages or 0), int(actions or 0)


async def test_a_note_joins_the_conversation_flagged_internal_and_is_never_an_event(
    client: httpx.AsyncClient, receive: Receive, outbox: Any
) -> None:
    cid = await receive()
    before = await client.get(f"/v1/cases/{cid}", headers=LI)
    events_before = len(await outbox(cid))
    first = await client.post(
        f"/v1/cases/{cid}/first-response", json={"message": "We are on it"}, headers=LI
    )
    assert first.status_code == 200, first.text
    version = first.json()["version"]

    created = await _note(client, cid, "  Customer called; 13812345678 is their number  ", LI)
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["kind"] == "note"
    assert note["internal"] is True
    assert note["author"] == "agent-li"
    assert note["text"] == "Customer called; 138****5678 is their number"  # stripped, masked
    assert note["case_version"] == version  # a note is not a change to the case
    await client.post(f"/v1/cases/{cid}/replies", json={"message": "Refund re-sent"}, headers=LI)

    body = (await client.get(f"/v1/cases/{cid}", headers=BILLING_LEAD)).json()
    assert [(m["kind"], m["internal"], m["text"]) for m in body["conversation"]] == [
        ("first_response", False, "We are on it"),
        ("note", True, "Customer called; 138****5678 is their number"),
        ("reply", False, "Refund re-sent"),
    ]
    added = [a for a in body["actions"] if a["action"] == "note_added"]
    assert len(added) == 1
    assert added[0]["actor"] == "agent-li"
    assert added[0]["detail"] == {"note_id": note["id"], "length": len(note["text"])}
    assert "Customer called" not in str(body["actions"])  # the text stays in the conversation
    # Only the first response and the reply left routing: the note is no event.
    events = (await outbox(cid))[events_before:]
    assert [type(e.data).event_name for e in events] == [  # type: ignore[attr-defined]
        "complaint.first_response_sent",
        "complaint.agent_replied",
    ]
    assert before.json()["version"] == version - 1


async def test_any_staff_member_who_sees_the_case_writes_notes(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    cid = await receive()  # billing, assigned to agent-li
    colleague = auth("agent-ma", "agent", team="billing")  # same team, not the assignee
    for headers in (LI, colleague, BILLING_LEAD, MANAGER):
        response = await _note(client, cid, "seen", headers)
        assert response.status_code == 201, response.text
    # A case the caller may not see is a 404 like an unknown one.
    for headers in (WANG, QUALITY_LEAD):
        response = await _note(client, cid, "seen", headers)
        assert response.status_code == 404, response.text
        assert response.json()["title"] == "Case not found"
    assert (await _note(client, "no-such-case", "x", LI)).status_code == 404
    # Administrators and services read cases but write no notes.
    for headers in (ADMIN, SERVICE):
        assert (await _note(client, cid, "x", headers)).status_code == 403
    assert (await _note(client, cid, "x", {})).status_code == 401


async def test_an_empty_or_oversized_note_is_a_422_naming_the_field_and_changes_nothing(
    database: Database, client: httpx.AsyncClient, receive: Receive
) -> None:
    cid = await receive()
    before = await _counts(database, cid)
    for text in ("", "   \n\t ", "x" * 5001, "很" * 20_000):
        response = await _note(client, cid, text, LI)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in problem["errors"]] == ["text"]
    missing = await client.post(f"/v1/cases/{cid}/notes", json={}, headers=LI)
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["text"]
    extra = await client.post(
        f"/v1/cases/{cid}/notes", json={"text": "ok", "internal": False}, headers=LI
    )
    assert extra.status_code == 422
    assert await _counts(database, cid) == before
    assert (await _note(client, cid, "x" * 5000, LI)).status_code == 201


async def test_an_erasure_blanks_the_notes(
    database: Database, client: httpx.AsyncClient, receive: Receive, feed: Any
) -> None:
    cid = await receive()
    assert (await _note(client, cid, "Spoke to Mr Zhang at home", LI)).status_code == 201
    await feed(
        ErasureRequested(
            complaint_id=cid,
            erasure_id="era-1",
            customer_ref="cr_any",
            reason="customer_request",
            requested_at=NOW,
            actor="intake",
        )
    )
    body = (await client.get(f"/v1/cases/{cid}", headers=LI)).json()
    [note] = body["conversation"]
    assert (note["kind"], note["internal"], note["text"]) == ("note", True, None)
