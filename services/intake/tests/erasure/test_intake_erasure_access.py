"""Who may erase whom, and bad requests: a front end's key needs the ``erasure`` scope and
reaches only its own front end's customers; an admin names the front end of a customer id;
the status is read by admins, auditors and the key's front end that asked (anyone else: the
same 404 as an unknown erasure); a request naming the customer wrongly is a 422 problem."""

from __future__ import annotations

from typing import Any

import pytest
from intake.erasure.domain.anonymisation import is_erased

from .conftest import Intake, complaint_body

PROBLEMS = "https://docs.opencomplaints.org/problems"


def _problem(answer: Any, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"{PROBLEMS}/{kind}"
    return body


async def test_a_key_without_the_erasure_scope_is_refused(intake: Intake) -> None:
    accepted = await intake.post(complaint_body())
    answer = await intake.erase({"phone": "13908715523"}, {"X-API-Key": intake.web_plain_key})
    _problem(answer, 403, "scope-missing")
    answer = await intake.client.post(
        "/v1/customers/CRM-80417/erasure", headers={"X-API-Key": intake.web_plain_key}
    )
    _problem(answer, 403, "scope-missing")
    assert not is_erased((await intake.complaint(accepted["id"])).customer_ref)


async def test_a_front_end_erases_its_own_customer_by_its_id(intake: Intake) -> None:
    mine = await intake.post(complaint_body())
    theirs = await intake.post(complaint_body(), key=intake.app_key)  # same id, other front end

    answer = await intake.client.post(
        "/v1/customers/CRM-80417/erasure", headers={"X-API-Key": intake.web_key}
    )

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["complaints"] == 1
    assert is_erased((await intake.complaint(mine["id"])).customer_ref)
    assert not is_erased((await intake.complaint(theirs["id"])).customer_ref)
    # It reads its erasure; the other front end and an agent get the same 404 as unknown.
    assert (
        await intake.status(body["erasure_id"], {"X-API-Key": intake.web_key})
    ).status_code == 200
    auditor = intake.token("auditor", subject="aud-1")
    assert (await intake.status(body["erasure_id"], auditor)).status_code == 200
    for headers in ({"X-API-Key": intake.app_key}, intake.token("agent", subject="agent-1")):
        _problem(await intake.status(body["erasure_id"], headers), 404, "not-found")
    _problem(await intake.status("nope", intake.admin), 404, "not-found")


async def test_another_front_ends_key_cannot_erase_its_customers(intake: Intake) -> None:
    web = await intake.post(complaint_body())

    by_phone = await intake.erase({"phone": "13908715523"}, {"X-API-Key": intake.app_key})
    assert by_phone.status_code == 202
    assert by_phone.json()["complaints"] == 0  # none of the app's complaints: nothing said
    naming_web = await intake.client.post(
        "/v1/customers/CRM-80417/erasure?front_end=web", headers={"X-API-Key": intake.app_key}
    )
    _problem(naming_web, 403, "forbidden")
    own_id = await intake.client.post(
        "/v1/customers/CRM-80417/erasure", headers={"X-API-Key": intake.app_key}
    )
    assert own_id.json()["complaints"] == 0
    assert not is_erased((await intake.complaint(web["id"])).customer_ref)


async def test_an_admin_names_the_front_end_of_a_customer_id(intake: Intake) -> None:
    web = await intake.post(complaint_body())
    missing = await intake.client.post("/v1/customers/CRM-80417/erasure", headers=intake.admin)
    body = _problem(missing, 422, "validation")
    assert body["errors"][0]["field"] == "front_end"

    answer = await intake.client.post(
        "/v1/customers/CRM-80417/erasure?front_end=web", headers=intake.admin
    )
    assert answer.json()["complaints"] == 1
    assert is_erased((await intake.complaint(web["id"])).customer_ref)


async def test_staff_without_the_admin_role_and_strangers_are_refused(intake: Intake) -> None:
    _problem(await intake.erase({"phone": "13908715523"}, intake.token("agent")), 403, "forbidden")
    _problem(await intake.erase({"phone": "13908715523"}, {}), 401, "unauthorized")
    for_routing = intake.token("admin", audience="routing")  # an admin's token, not for intake
    _problem(await intake.erase({"phone": "13908715523"}, for_routing), 401, "unauthorized")
    _problem(
        await intake.erase({"phone": "13908715523"}, {"X-API-Key": "ck_unknown"}),
        401,
        "unauthorized",
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"phone": "13908715523", "email": "a@example.com"}, ["phone", "email"]),
        ({}, ["phone", "email"]),
        ({"phone": "call me maybe"}, ["phone"]),
        ({"phone": "12345"}, ["phone"]),
        ({"email": "not-an-address"}, ["email"]),
        ({"email": "a@b@example.com"}, ["email"]),
        ({"phone": "13908715523", "name": "Zhang"}, ["name"]),
        ({"phone": 13908715523}, ["phone"]),
    ],
)
async def test_a_customer_named_wrongly_is_a_problem(
    intake: Intake, body: Any, fields: list[str]
) -> None:
    problem = _problem(await intake.erase(body, intake.admin), 422, "validation")
    assert [e["field"] for e in problem["errors"]] == fields
    assert await intake.events() == []


@pytest.mark.parametrize(
    ("content", "status", "kind"),
    [
        (b"phone=13908715523", 400, "malformed-body"),
        (b"[]", 422, "validation"),
        (b"", 422, "validation"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_a_problem(
    intake: Intake, content: bytes, status: int, kind: str
) -> None:
    answer = await intake.client.post(
        "/v1/erasures",
        content=content,
        headers={**intake.admin, "Content-Type": "application/json"},
    )
    _problem(answer, status, kind)
