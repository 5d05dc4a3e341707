"""Revealing a customer's raw contact over routing's API, intake stood in for by an
httpx.MockTransport: who may, what the answer and the audit entry carry (never the values
in the history), and what intake's failures become."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.audit import links_after
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import Unauthorized
from complaint_runtime.identity import ServiceCaller
from routing import bootstrap
from routing.adapters.intake_api import MAX_RESPONSE_BYTES, IntakeApi, IntakeUnavailable
from routing.bootstrap import Dependencies
from routing.casefile.api import router as case_file_router
from routing.config import RoutingSettings
from routing.contacts.api import router
from routing.db import CaseRepository

from ..conftest import IDENTITY
from ..conftest import staff_auth as auth

INTAKE = "http://intake.test"
CONTACT = {
    "complaint_id": "filled-in",
    "reference": "C-20261201-000001",
    "name": "Zhang Wei",
    "email": "zhang.wei@example.com",
    "phone": "+86 138 1234 5678",
    "language": "zh-CN",
    "preferred_channel": "sms",
    "tracking_url": "https://complaints.example.com/t/abc",
    "team": "billing",
    "assignee": "agent-li",
    "priority": "P3",
}
Answer = Callable[[httpx.Request], httpx.Response]


LEAD = auth("lead-zhao", "lead", team="billing")
OTHER_LEAD = auth("lead-qian", "lead", team="quality")
MANAGER = auth("mgr-sun", "manager")
AGENT = auth("agent-li", "agent", team="billing")


class FakeIntake:
    """intake's internal API: answers with ``answer``, keeps the requests it got."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Answer = lambda _: httpx.Response(200, json=CONTACT)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


@pytest.fixture
def intake() -> FakeIntake:
    return FakeIntake()


def routing_caller(identity: DevIdentity = IDENTITY) -> ServiceCaller:
    """routing's identity for its calls, signed with its own key (its AUTH_SIGNING_KEY)."""
    return ServiceCaller(identity.services["routing"])


@pytest.fixture
def deps(deps: Dependencies, intake: FakeIntake, identity: DevIdentity) -> Dependencies:
    """The suite's dependencies with intake's client over the fake (overrides conftest's)."""
    api = IntakeApi(
        base_url=INTAKE,
        caller=routing_caller(identity),
        timeout_s=1,
        transport=httpx.MockTransport(intake),
    )
    return dataclasses.replace(deps, intake=api)


@pytest.fixture
async def client(api_client: Any, seed: Any) -> AsyncIterator[httpx.AsyncClient]:
    await seed([{"id": "agent-li", "team": "billing", "capacity": 10}])
    async with api_client(router, case_file_router) as c:
        yield c


async def reveal(
    client: httpx.AsyncClient, cid: str, headers: dict[str, str], reason: str = "call back"
) -> httpx.Response:
    return await client.post(
        f"/v1/cases/{cid}/contact/reveal", json={"reason": reason}, headers=headers
    )


async def history(database: Database, cid: str) -> list[tuple[str, str, dict[str, Any]]]:
    async with database.sessions() as session:
        actions = await CaseRepository(session).actions(cid)
    return [(a.action, a.actor, a.detail) for a in actions]


async def test_a_lead_sees_the_contact_and_the_history_keeps_who_and_why(
    client: httpx.AsyncClient,
    database: Database,
    new_case: Any,
    intake: FakeIntake,
    identity: DevIdentity,
) -> None:
    cid = await new_case()
    response = await reveal(client, cid, LEAD, reason="call back about 13912345678's refund")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "name": "Zhang Wei",
        "email": "zhang.wei@example.com",
        "phone": "+86 138 1234 5678",
        "preferred_channel": "sms",
    }
    # intake was asked once, for this complaint, with routing's own token for intake only.
    (request,) = intake.requests
    assert str(request.url) == f"{INTAKE}/internal/v1/complaints/{cid}/contact"
    token = request.headers["Authorization"].removeprefix("Bearer ")
    caller = identity.verifier("intake").verify(token)
    assert (caller.service, caller.roles) == ("routing", frozenset({"service"}))
    with pytest.raises(Unauthorized):
        identity.verifier("notify").verify(token)
    action, actor, detail = (await history(database, cid))[-1]
    assert (action, actor) == ("contact_revealed", "lead-zhao")
    assert detail["fields"] == ["name", "email", "phone"]
    assert "13912345678" not in detail["reason"]  # the reason is masked too
    recorded = json.dumps(await history(database, cid), ensure_ascii=False)
    for value in ("Zhang Wei", "zhang.wei@example.com", "1234 5678"):
        assert value not in recorded
    # The audit chain holds the read: who, which complaint, which fields; no value, no reason.
    audited = [e for link in await links_after(database) for e in link.entries]
    (revealed,) = [e for e in audited if e["action"] == "contact.revealed"]
    assert (revealed["actor"], revealed["object_id"]) == ("lead-zhao", cid)
    assert revealed["after"] == {"fields": ["name", "email", "phone"]}
    for value in ("Zhang Wei", "zhang.wei@example.com", "1234 5678", "refund"):
        assert value not in json.dumps(audited, ensure_ascii=False)
    # The case file shows the entry, the case's version does not move.
    case_file = (await client.get(f"/v1/cases/{cid}", headers=LEAD)).json()
    assert case_file["actions"][-1]["action"] == "contact_revealed"
    assert case_file["version"] == 3


async def test_only_leads_of_the_team_and_managers_reveal(
    client: httpx.AsyncClient, database: Database, new_case: Any, intake: FakeIntake
) -> None:
    cid = await new_case()
    for headers, status in ((AGENT, 403), (OTHER_LEAD, 404), (auth("x", "admin"), 403)):
        response = await reveal(client, cid, headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (await reveal(client, "no-such-case", MANAGER)).status_code == 404
    assert (await client.post(f"/v1/cases/{cid}/contact/reveal", json={})).status_code == 401
    for reason in ("", " ", "x" * 501):
        assert (await reveal(client, cid, MANAGER, reason=reason)).status_code == 422
    assert intake.requests == []  # nobody refused got as far as intake
    # Only name and phone known: the audit says so.
    intake.answer = lambda _: httpx.Response(200, json={**CONTACT, "email": None})
    response = await reveal(client, cid, MANAGER)
    assert response.status_code == 200, response.text
    assert response.json()["email"] is None
    assert (await history(database, cid))[-1][2]["fields"] == ["name", "phone"]


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("intake too slow", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: httpx.Response(500, json={"title": "Internal error"}),
        lambda _: httpx.Response(503),
        lambda _: httpx.Response(401),  # intake does not trust routing's key (a rotation)
        lambda _: httpx.Response(200, content=b"not json"),
        lambda _: httpx.Response(200, json=[CONTACT]),
        lambda _: httpx.Response(200, json={"name": "x" * MAX_RESPONSE_BYTES}),
        _timeout,
        _refused,
    ],
    ids=["500", "503", "401", "not-json", "not-object", "too-large", "timeout", "refused"],
)
async def test_intake_not_answering_is_a_503_and_nothing_is_recorded(
    client: httpx.AsyncClient,
    database: Database,
    new_case: Any,
    intake: FakeIntake,
    answer: Answer,
) -> None:
    cid = await new_case()
    before = await history(database, cid)
    intake.answer = answer
    response = await reveal(client, cid, LEAD)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["Retry-After"]
    body = response.json()
    assert body["type"].endswith("/unavailable")
    assert "Zhang" not in response.text
    assert await history(database, cid) == before


async def test_a_complaint_intake_does_not_know_is_a_404(
    client: httpx.AsyncClient, database: Database, new_case: Any, intake: FakeIntake
) -> None:
    cid = await new_case()
    before = await history(database, cid)
    intake.answer = lambda _: httpx.Response(404, json={"title": "Not found"})
    response = await reveal(client, cid, LEAD)
    assert response.status_code == 404, response.text
    assert await history(database, cid) == before


async def test_a_streamed_answer_is_cut_off_past_the_bound() -> None:
    """No Content-Length to trust: the client stops reading once the bound is passed."""
    chunks = [b'{"name": "', b"x" * MAX_RESPONSE_BYTES, b'"}']

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream())

    api = IntakeApi(
        base_url=INTAKE,
        caller=routing_caller(),
        timeout_s=1,
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(IntakeUnavailable, match="larger than"):
        await api.contact("c-1")


async def test_without_a_signing_key_a_reveal_is_not_configured_and_intake_is_not_asked(
    api_client: Any,
    deps: Dependencies,
    seed: Any,
    database: Database,
    new_case: Any,
    intake: FakeIntake,
) -> None:
    """No AUTH_SIGNING_KEY: routing has no identity to call intake with (503, nothing
    recorded), rather than calling without one."""
    await seed([{"id": "agent-li", "team": "billing", "capacity": 10}])
    cid = await new_case()
    before = await history(database, cid)
    unsigned = IntakeApi(
        base_url=INTAKE, caller=None, timeout_s=1, transport=httpx.MockTransport(intake)
    )
    deps_without_key = dataclasses.replace(deps, intake=unsigned)
    async with api_client(router, dependencies=deps_without_key) as client:
        response = await reveal(client, cid, LEAD)
    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith("/auth-not-configured")
    assert intake.requests == []
    assert await history(database, cid) == before


async def test_the_process_calls_intake_as_routing_with_its_own_key(
    identity: DevIdentity, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The composition root hands intake's client routing's identity from AUTH_SIGNING_KEY,
    and none without it (a reveal is then not configured, see above)."""
    built: list[ServiceCaller | None] = []

    def recording(**kwargs: Any) -> IntakeApi:
        built.append(kwargs["caller"])
        return IntakeApi(**kwargs)

    monkeypatch.setattr(bootstrap, "IntakeApi", recording)
    monkeypatch.delenv("AUTH_SIGNING_KEY", raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path}/routing.db"
    keys = {name.lower(): value for name, value in identity.env("routing").items()}
    for settings in (RoutingSettings(database_url=url, **keys), RoutingSettings(database_url=url)):
        runtime, _ = bootstrap.build_runtime(settings)
        await runtime.database.dispose()
    with_key, without_key = built
    assert without_key is None
    assert with_key is not None
    caller = identity.verifier("intake").verify(with_key.token_for("intake"))
    assert (caller.service, caller.roles) == ("routing", frozenset({"service"}))
