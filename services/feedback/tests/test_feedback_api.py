"""Feedback's routers in-process (httpx ASGITransport), without the Kafka lifespan: the
routers are mounted on a small app with the runtime's problem handlers, feedback's
dependencies object and a stand-in runtime carrying the test session's token verifier for
feedback's audience. The consumer path runs the runtime's EventConsumer batch
processing over records built with the runtime's Kafka test doubles."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import decode
from complaint_contracts.events import ComplaintReceived, ComplaintResolved, CustomerView
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.problems import install_problem_handlers
from complaint_runtime.testing import FakeProducer, FakeRecord, record_of
from fastapi import FastAPI
from feedback import messaging
from feedback.api.internal import router as internal_router
from feedback.api.surveys import router as surveys_router
from feedback.bootstrap import build_dependencies
from feedback.config import FeedbackSettings
from feedback.domain.links import issue_link_token
from sqlalchemy import select

LINK_SECRET = "link-secret-for-tests-0123456789abcdef"
SETTINGS = FeedbackSettings(
    feedback_link_secret=LINK_SECRET,
    public_base_url="https://feedback.example.org/",
)


@pytest.fixture
async def client(database: Database, identity: DevIdentity) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(surveys_router)
    app.include_router(internal_router)
    app.state.runtime = SimpleNamespace(
        settings=SETTINGS, token_verifier=identity.verifier("feedback")
    )
    app.state.dependencies = build_dependencies(SETTINGS, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://feedback") as http:
        yield http


async def _consume(database: Database, *records: FakeRecord) -> None:
    producer = FakeProducer()
    consumer = EventConsumer(
        database=database,
        bootstrap_servers="unused:9092",
        group_id="feedback",
        topics=[topics.INTAKE.name, topics.ROUTING.name],
        handlers=messaging.handlers(build_dependencies(SETTINGS, database)),
        dead_letter_topic="complaints.dlq.feedback.v1",
        producer=producer,  # type: ignore[arg-type]
    )
    await consumer._process_batch(list(records))  # type: ignore[arg-type]
    assert producer.sent == [], "nothing should be dead-lettered"


async def _resolved_complaint(database: Database, *, language: str = "en") -> str:
    complaint_id = str(uuid.uuid4())
    received = example_for(ComplaintReceived)
    resolved = example_for(ComplaintResolved)
    view = CustomerView(customer_ref="cr_test", language=language, preferred_channel="email")
    await _consume(
        database,
        record_of(
            received.model_copy(update={"complaint_id": complaint_id, "customer": view}),
            topics.INTAKE,
        ),
        record_of(resolved.model_copy(update={"complaint_id": complaint_id}), topics.ROUTING),
    )
    return complaint_id


async def _events(database: Database) -> list[EventData]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]


Headers = dict[str, str]


def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def notify(identity: DevIdentity) -> Headers:
    """notify's own token for feedback, as its survey link lookups send it."""
    return _bearer(identity.service_token(caller="notify", audience="feedback"))


async def _link(client: httpx.AsyncClient, database: Database, notify: Headers) -> dict[str, Any]:
    [requested] = [e for e in await _events(database) if e.event_name.endswith("requested")]
    answer = await client.get(
        f"/internal/v1/confirmation-requests/{requested.request_id}",  # type: ignore[attr-defined]
        headers=notify,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _path(survey_url: str) -> str:
    """The JSON API's path of the link's token (the link itself opens the page)."""
    assert survey_url.startswith("https://feedback.example.org/s/")
    return "/v1/surveys/" + survey_url.rsplit("/", 1)[1]


async def test_consumed_resolution_gives_notify_a_link(
    client: httpx.AsyncClient, database: Database, notify: Headers
) -> None:
    complaint_id = await _resolved_complaint(database)
    body = await _link(client, database, notify)
    assert body["complaint_id"] == complaint_id
    assert body["reference"] == example_for(ComplaintReceived).reference  # type: ignore[attr-defined]
    assert body["language"] == "en"
    assert body["channel"] == "email"
    assert body["status"] == "pending"
    assert body["survey_url"].startswith("https://feedback.example.org/s/")
    token = body["survey_url"].rsplit("/", 1)[1]
    async with database.sessions() as session:
        values = [row.value for row in await session.scalars(select(OutboxMessage))]
    assert values
    assert all(token.encode() not in v for v in values)


async def test_the_same_records_again_change_nothing(database: Database) -> None:
    complaint_id = str(uuid.uuid4())
    records = [
        record_of(
            example_for(ComplaintReceived).model_copy(update={"complaint_id": complaint_id}),
            topics.INTAKE,
        ),
        record_of(
            example_for(ComplaintResolved).model_copy(update={"complaint_id": complaint_id}),
            topics.ROUTING,
        ),
    ]
    await _consume(database, *records)
    await _consume(database, *records)
    await _consume(database, records[1])
    assert [e.event_name for e in await _events(database)] == ["complaint.confirmation_requested"]


async def test_internal_api_needs_notifys_token(
    client: httpx.AsyncClient, identity: DevIdentity, notify: Headers
) -> None:
    url = f"/internal/v1/confirmation-requests/{uuid.uuid4()}"
    assert (await client.get(url)).status_code == 401
    staff = identity.token(subject="li", roles=["admin"], audience="feedback")
    forbidden = await client.get(url, headers=_bearer(staff))
    assert forbidden.status_code == 403
    for caller in ("intake", "routing"):  # another service's own token: not its caller
        other = identity.service_token(caller=caller, audience="feedback")
        assert (await client.get(url, headers=_bearer(other))).status_code == 403, caller
    elsewhere = identity.service_token(caller="notify", audience="intake")
    assert (await client.get(url, headers=_bearer(elsewhere))).status_code == 401
    missing = await client.get(url, headers=notify)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_survey_answer_then_conflict(
    client: httpx.AsyncClient, database: Database, notify: Headers
) -> None:
    await _resolved_complaint(database)
    path = _path((await _link(client, database, notify))["survey_url"])
    shown = await client.get(path)
    assert shown.status_code == 200
    survey = shown.json()
    assert survey["language"] == "en"
    assert survey["answered"] is False
    assert survey["questions"][0]["text"] == "Is your complaint solved?"
    assert [q["id"] for q in survey["questions"]] == ["solved", "csat", "comment"]

    answered = await client.post(path, json={"solved": True, "csat": 5, "comment": "great"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["outcome"] == "confirmed"
    again = await client.post(path, json={"solved": False, "csat": 1, "comment": None})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert (await client.get(path)).json()["answered"] is True
    names = [e.event_name for e in await _events(database)]
    assert names == ["complaint.confirmation_requested", "complaint.confirmed"]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [({"solved": False, "csat": 4}, "not_solved"), ({"solved": True, "csat": 1}, "low_csat")],
)
async def test_reopening_through_the_link(
    client: httpx.AsyncClient,
    database: Database,
    notify: Headers,
    answer: dict[str, Any],
    reason: str,
) -> None:
    await _resolved_complaint(database, language="zh-CN")
    path = _path((await _link(client, database, notify))["survey_url"])
    assert (await client.get(path)).json()["questions"][0]["text"] == "您的投诉问题是否已经解决？"
    answered = await client.post(path, json=answer)
    assert answered.json() == answered.json() | {"outcome": "reopened", "reason": reason}


async def test_forged_and_unknown_links_are_not_found(client: httpx.AsyncClient) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    unknown = issue_link_token(
        secret=LINK_SECRET, request_id="nope", complaint_id=str(uuid.uuid4()), expires_at=expires
    )
    forged = issue_link_token(
        secret="another-secret-another-secret-xx",
        request_id="nope",
        complaint_id=str(uuid.uuid4()),
        expires_at=expires,
    )
    for token in (unknown, forged, "garbage", "x" * 3000):
        for answer in (
            await client.get(f"/v1/surveys/{token}"),
            await client.post(f"/v1/surveys/{token}", json={"solved": True, "csat": 5}),
        ):
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/problem+json"


async def test_expired_link_is_gone(client: httpx.AsyncClient) -> None:
    token = issue_link_token(
        secret=LINK_SECRET,
        request_id="whatever",
        complaint_id=str(uuid.uuid4()),
        expires_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    for answer in (
        await client.get(f"/v1/surveys/{token}"),
        await client.post(f"/v1/surveys/{token}", json={"solved": True, "csat": 5}),
    ):
        assert answer.status_code == 410
        assert answer.json()["type"].endswith("/survey-expired")


@pytest.mark.parametrize(
    "body",
    [
        {"solved": True, "csat": 6},
        {"solved": True, "csat": 0},
        {"solved": True},
        {"csat": 3},
        {"solved": True, "csat": 3, "comment": "x" * 2001},
        {"solved": True, "csat": 3, "extra": 1},
    ],
)
async def test_invalid_answers_are_problems(
    client: httpx.AsyncClient, database: Database, notify: Headers, body: dict[str, Any]
) -> None:
    await _resolved_complaint(database)
    path = _path((await _link(client, database, notify))["survey_url"])
    answer = await client.post(path, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get(path)).json()["answered"] is False


def _problem(status: int, title: str, kind: str, path: str, detail: str | None = None) -> Any:
    body: dict[str, Any] = {
        "type": f"https://docs.opencomplaints.org/problems/{kind}",
        "title": title,
        "status": status,
        "instance": path,
    }
    if detail is not None:
        body["detail"] = detail
    return body


async def test_refusals_are_these_exact_problems(
    client: httpx.AsyncClient, database: Database, notify: Headers
) -> None:
    complaint_id = await _resolved_complaint(database)
    first = _path((await _link(client, database, notify))["survey_url"])
    answered = await client.post(first, json={"solved": True, "csat": 5})
    assert answered.status_code == 200
    again = await client.post(first, json={"solved": True, "csat": 5})
    assert again.json() == _problem(
        409,
        "Survey already answered",
        "survey-answered",
        first,
        "This link has been used; each link takes one answer.",
    )
    shown = await client.get(first)
    assert shown.status_code == 200
    assert shown.json()["answered"] is True
    assert shown.json()["outcome"] == "confirmed"

    resolved = example_for(ComplaintResolved).model_copy(update={"complaint_id": complaint_id})
    await _consume(database, record_of(resolved, topics.ROUTING))  # a second resolution
    requested = [e for e in await _events(database) if e.event_name.endswith("requested")]
    assert len(requested) == 2
    second = await client.get(
        f"/internal/v1/confirmation-requests/{requested[1].request_id}",  # type: ignore[attr-defined]
        headers=notify,
    )
    superseded_path = _path(second.json()["survey_url"])
    await _consume(database, record_of(resolved, topics.ROUTING))  # a third one
    for answer in (
        await client.get(superseded_path),
        await client.post(superseded_path, json={"solved": True, "csat": 5}),
    ):
        assert answer.json() == _problem(
            410,
            "Survey no longer open",
            "survey-closed",
            superseded_path,
            "A newer survey replaced this one, or the complaint was closed.",
        )

    expired = issue_link_token(
        secret=LINK_SECRET,
        request_id="whatever",
        complaint_id=complaint_id,
        expires_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    answer = await client.get(f"/v1/surveys/{expired}")
    assert answer.json() == _problem(
        410, "Survey expired", "survey-expired", f"/v1/surveys/{expired}", "This link has expired."
    )
    answer = await client.get("/v1/surveys/garbage")
    assert answer.json() == _problem(
        404,
        "Survey not found",
        "survey-not-found",
        "/v1/surveys/garbage",
        "No survey behind this link.",
    )
    unknown = f"/internal/v1/confirmation-requests/{uuid.uuid4()}"
    answer = await client.get(unknown, headers=notify)
    assert answer.json() == _problem(404, "Confirmation request not found", "not-found", unknown)
