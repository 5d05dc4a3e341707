"""Legal holds (section 10): an admin places one with a reason (recorded with who and
when, contacts masked), an erasure skips the held complaint (listed as held, the erasure
pending) and retention's query reports it; releasing the hold erases it for the erasure
that waited, which then completes with the confirmations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from complaint_contracts.events import ErasureRequested
from intake.erasure import service as erasure
from intake.erasure.domain.anonymisation import is_erased
from sqlalchemy import text

from .conftest import Intake, complaint_body
from .test_intake_erasure import CONFIRMATIONS, _confirmation

REASON = "Court order 2026-117; counsel on 13800001234"


def _hold(intake: Intake, complaint_id: str) -> str:
    return f"/v1/complaints/{complaint_id}/legal-hold"


async def test_a_held_complaint_waits_for_the_release_then_is_erased(intake: Intake) -> None:
    held = await intake.post(complaint_body())
    free = await intake.post(complaint_body())

    placed = await intake.client.put(
        _hold(intake, held["id"]), json={"reason": REASON}, headers=intake.admin
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert (hold["active"], hold["placed_by"], hold["reason"]) == (
        True,
        "admin-7",
        "Court order 2026-117; counsel on 138****1234",
    )
    again = await intake.client.put(
        _hold(intake, held["id"]), json={"reason": "another"}, headers=intake.admin
    )
    assert (again.status_code, again.json()["reason"]) == (200, hold["reason"])
    async with intake.database.sessions() as session:
        assert await erasure.held_complaint_ids(session, [held["id"], free["id"]]) == {held["id"]}
        assert await erasure.held_complaint_ids(session) == {held["id"]}

    body = (await intake.erase({"phone": "13908715523"}, intake.admin)).json()
    assert (body["complaints"], body["held"], body["status"]) == (2, 1, "pending")
    assert not is_erased((await intake.complaint(held["id"])).customer_ref)
    assert is_erased((await intake.complaint(free["id"])).customer_ref)
    erasure_id = body["erasure_id"]
    for model, source in CONFIRMATIONS:
        await intake.feed(_confirmation(model, free["id"], erasure_id), source=source)
    status = (await intake.status(erasure_id, intake.admin)).json()
    assert (status["status"], status["held_complaints"]) == ("pending", [held["id"]])
    assert [
        e.data.complaint_id for e in await intake.events() if isinstance(e.data, ErasureRequested)
    ] == [free["id"]]

    released = await intake.client.delete(_hold(intake, held["id"]), headers=intake.admin)

    assert released.status_code == 200, released.text
    out = released.json()
    assert (out["active"], out["released_by"], out["erasures"]) == (False, "admin-7", [erasure_id])
    assert is_erased((await intake.complaint(held["id"])).customer_ref)
    requested = [e.data for e in await intake.events() if isinstance(e.data, ErasureRequested)]
    assert [(d.complaint_id, d.erasure_id, d.actor) for d in requested[1:]] == [
        (held["id"], erasure_id, "admin-7")
    ]
    for model, source in CONFIRMATIONS:
        await intake.feed(_confirmation(model, held["id"], erasure_id), source=source)
    assert (await intake.status(erasure_id, intake.admin)).json()["status"] == "completed"
    shown = await intake.client.get(_hold(intake, held["id"]), headers=intake.admin)
    assert (shown.status_code, shown.json()["active"]) == (200, False)
    audited = [
        (entry["actor"], entry["action"], entry["object_id"])
        for entry in await _audit_entries(intake)
        if entry["action"].startswith(("legal_hold.", "erasure."))
    ]
    assert audited == [
        ("admin-7", "legal_hold.placed", held["id"]),
        ("admin-7", "erasure.requested", erasure_id),
        ("admin-7", "legal_hold.released", held["id"]),
    ]


async def _audit_entries(intake: Intake) -> list[dict[str, Any]]:
    """Every entry of intake's audit chain, in order."""
    async with intake.database.sessions() as session:
        rows = await session.execute(text("SELECT entries FROM audit_chain ORDER BY seq"))
        links = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]
    return [entry for link in links for entry in link]


async def test_retention_skips_a_held_complaint(intake: Intake) -> None:
    held = await intake.post(complaint_body())
    other = await intake.post(complaint_body())
    await intake.client.put(
        _hold(intake, held["id"]), json={"reason": "audit"}, headers=intake.admin
    )

    erased = await erasure.erase_for_retention(
        database=intake.database,
        secrets_=_secrets(intake),
        complaint_ids=[held["id"], other["id"]],
        actor="retention",
        now=datetime.now(UTC),
    )

    assert erased == 1
    assert not is_erased((await intake.complaint(held["id"])).customer_ref)
    assert is_erased((await intake.complaint(other["id"])).customer_ref)
    [event] = [e.data for e in await intake.events() if isinstance(e.data, ErasureRequested)]
    assert (event.complaint_id, event.reason, event.actor) == (
        other["id"],
        "retention_expired",
        "retention",
    )


async def test_only_admins_place_and_release_and_a_reason_is_needed(intake: Intake) -> None:
    accepted = await intake.post(complaint_body())
    path = _hold(intake, accepted["id"])
    for headers, status in (
        (intake.token("agent"), 403),
        ({"X-API-Key": intake.web_key}, 401),
    ):
        assert (
            await intake.client.put(path, json={"reason": "x"}, headers=headers)
        ).status_code == status
        assert (await intake.client.delete(path, headers=headers)).status_code == status
    assert (
        await intake.client.put(path, json={"reason": "  "}, headers=intake.admin)
    ).status_code == 422
    assert (await intake.client.put(path, json={}, headers=intake.admin)).status_code == 422
    none = await intake.client.delete(path, headers=intake.admin)
    assert (none.status_code, none.json()["type"].rsplit("/", 1)[1]) == (404, "no-legal-hold")
    assert (await intake.client.get(path, headers=intake.token("auditor"))).status_code == 404
    unknown = await intake.client.put(
        _hold(intake, "0195f9a4-0000-7000-8000-000000000000"),
        json={"reason": "x"},
        headers=intake.admin,
    )
    assert unknown.status_code == 404


def _secrets(intake: Intake):  # type: ignore[no-untyped-def]
    from intake.complaints.domain.secret_keys import Secrets

    return Secrets.from_settings(
        contact_encryption_key=intake.settings.contact_encryption_key,
        customer_ref_key=intake.settings.customer_ref_key,
    )
