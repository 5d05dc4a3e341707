# ruff: noqa: F811 (the intake fixture is imported, and named as a parameter)
"""The batch form of notify's contact lookup, ``POST /internal/v1/contacts/lookup``, in
process as notify sees it: notify's own token only, at most 100 ids (else a 422 problem),
the same fields per complaint as ``GET .../contact``, unknown ones listed, one query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from .test_intake_api import (  # the fixture too
    COMPLAINT,
    PROBLEMS,
    Intake,
    intake,  # noqa: F401
)

PATH = "/internal/v1/contacts/lookup"
UNKNOWN = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"


async def _lookup(intake: Intake, ids: list[str], **headers: str) -> httpx.Response:
    return await intake.client.post(
        PATH, json={"complaint_ids": ids}, headers=intake.as_service() | headers
    )


@contextmanager
def _statements(intake: Intake) -> Iterator[list[str]]:
    """The SQL statements intake's engine runs meanwhile."""
    engine = intake.client._transport.app.state.runtime.database.engine.sync_engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_the_lookup_needs_notifys_token(intake: Intake) -> None:
    accepted = (await intake.post(COMPLAINT)).json()
    body = {"complaint_ids": [accepted["id"]]}
    anonymous = await intake.client.post(PATH, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    staff = await intake.client.post(PATH, json=body, headers=intake.as_staff("agent"))
    assert staff.status_code == 403
    assert staff.headers["content-type"] == "application/problem+json"
    # Another service's own token: only notify sends batches.
    for caller in ("routing", "feedback"):
        other = await intake.client.post(PATH, json=body, headers=intake.as_service(caller))
        assert other.status_code == 403, caller
    # notify's token for another service is refused outright.
    elsewhere = intake.as_service(audience="feedback")
    assert (await intake.client.post(PATH, json=body, headers=elsewhere)).status_code == 401
    assert (
        await intake.client.post(PATH, json=body, headers=intake.as_service())
    ).status_code == 200
    # Unauthenticated, a malformed body says nothing about the bounds either.
    assert (await intake.client.post(PATH, json={"complaint_ids": []})).status_code == 401


async def test_found_ones_answer_what_the_single_lookup_answers(intake: Intake) -> None:
    first = (await intake.post(COMPLAINT)).json()
    other = COMPLAINT | {
        "customer": {"name": "Li Na", "email": "li.na@example.com"},
        "timezone": "Europe/Berlin",
    }
    second = (await intake.post(other)).json()
    ids = [second["id"], UNKNOWN, first["id"], second["id"]]  # a repeat is answered once

    answer = await _lookup(intake, ids)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    singles = [
        (
            await intake.client.get(
                f"/internal/v1/complaints/{i}/contact", headers=intake.as_service()
            )
        ).json()
        for i in (second["id"], first["id"])
    ]
    assert body == {"contacts": singles, "not_found": [UNKNOWN]}
    assert [c["email"] for c in body["contacts"]] == ["li.na@example.com", "zhang.wei@example.com"]
    assert body["contacts"][0]["timezone"] == "Europe/Berlin"
    assert body["contacts"][1]["tracking_url"] == first["tracking_url"]


async def test_only_unknown_complaints_are_all_not_found(intake: Intake) -> None:
    answer = await _lookup(intake, [UNKNOWN])
    assert answer.status_code == 200
    assert answer.json() == {"contacts": [], "not_found": [UNKNOWN]}


async def test_a_batch_is_read_in_one_query(intake: Intake) -> None:
    ids = [(await intake.post(COMPLAINT)).json()["id"] for _ in range(5)]
    with _statements(intake) as one:
        assert (await _lookup(intake, ids[:1])).status_code == 200
    with _statements(intake) as five:
        answer = await _lookup(intake, [*ids, UNKNOWN])
    assert answer.status_code == 200
    assert len(answer.json()["contacts"]) == 5
    selects = [s for s in five if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, five
    assert len(five) == len(one)  # however many complaints: no statement per id


async def test_more_than_a_hundred_ids_or_none_are_refused(intake: Intake) -> None:
    accepted = (await intake.post(COMPLAINT)).json()
    assert (await _lookup(intake, [accepted["id"]] * 100)).status_code == 200
    too_many = await _lookup(intake, [accepted["id"]] * 101)
    assert too_many.status_code == 422
    assert too_many.headers["content-type"] == "application/problem+json"
    problem = too_many.json()
    assert (problem["type"], problem["status"], problem["instance"]) == (
        f"{PROBLEMS}/validation",
        422,
        PATH,
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/complaint_ids"]
    for body in ({"complaint_ids": []}, {"complaint_ids": ["x" * 37]}, {"ids": [UNKNOWN]}):
        refused = await intake.client.post(PATH, json=body, headers=intake.as_service())
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
