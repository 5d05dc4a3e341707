"""Scoped front-end keys through intake's HTTP API in-process: a key reaches its own front
end's complaints of its channels (every complaint of its channels with
``complaints:read-all``), anything else is the 404 of an unknown complaint, whatever it asks
(read, write, withdraw); every key gets the customer's view; revoked and rotated keys;
customer ids per front end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintTriaged,
)
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet
from intake.access.domain.front_ends import READ_ALL
from intake.access.service import list_api_keys, revoke_api_key, rotate_api_key
from intake.cli import create_api_key
from intake.config import IntakeSettings
from intake.db import Complaint, ComplaintRepository, OutboxMessage
from intake.main import MIGRATIONS, create_app
from intake.projection import service as projection
from sqlalchemy import func, select

PROBLEMS = "https://docs.opencomplaints.org/problems"
UNKNOWN = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"


def complaint(channel: str = "web", customer_id: str = "cust-1001") -> dict[str, Any]:
    return {
        "channel": channel,
        "customer": {"customer_id": customer_id, "email": "li.na@example.com"},
        "subject": "Refund missing",
        "description": "I returned the order a month ago.",
    }


@dataclass
class Intake:
    client: httpx.AsyncClient
    database: Database
    url: str
    keys: dict[str, str]

    def key(self, front_end: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[front_end]}

    async def post(self, front_end: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/complaints", json=body or complaint(), headers=self.key(front_end)
        )
        assert answer.status_code == 201, answer.text
        posted: dict[str, Any] = answer.json()
        return posted

    async def row(self, complaint_id: str) -> Complaint:
        async with self.database.sessions() as session:
            found = await ComplaintRepository(session).get(complaint_id)
        assert found is not None
        return found

    async def count(self, table: Any) -> int:
        async with self.database.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

    async def project(self, data: EventData, *, source: str) -> None:
        event_id = str(uuid.uuid4())
        envelope = Envelope(
            id=event_id,
            type=data.ce_type(),
            source=source,
            subject=data.complaint_id,  # type: ignore[attr-defined]
            time=datetime.now(UTC),
            data=data,
            correlation_id=event_id,
            causation_id=None,
        )
        async with self.database.unit_of_work() as uow:
            await projection.project_event(uow=uow, envelope=envelope)

    async def received_events(self) -> list[ComplaintReceived]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        envelopes = [
            decode(r.key, r.value, [(name, value.encode()) for name, value in r.headers])
            for r in rows
        ]
        return [e.data for e in envelopes if isinstance(e.data, ComplaintReceived)]


MakeIntake = Callable[..., Awaitable[Intake]]


@pytest.fixture
async def make_intake(tmp_path: Path) -> AsyncIterator[MakeIntake]:
    """``await make_intake(**settings)``: intake with keys of three front ends (web-shop,
    partner-x: every channel; crm: web and phone, ``complaints:read-all``). The key cache
    is off (API_KEY_CACHE_S=0): a revocation counts at the next request."""
    made: list[tuple[Any, Database]] = []

    async def make(**overrides: Any) -> Intake:
        url = f"sqlite+aiosqlite:///{tmp_path / f'intake-{len(made)}.db'}"
        await upgrade_to_head(MIGRATIONS, url)
        keys = {
            "web-shop": await create_api_key(
                database_url=url, label="web shop", channels=["*"], front_end="web-shop"
            ),
            "partner-x": await create_api_key(
                database_url=url, label="partner", channels=["*"], front_end="partner-x"
            ),
            "crm": await create_api_key(
                database_url=url,
                label="crm",
                channels=["web", "phone"],
                front_end="crm",
                scopes=[READ_ALL],
            ),
        }
        settings = IntakeSettings(
            **{
                "database_url": url,
                "contact_encryption_key": Fernet.generate_key().decode(),
                "customer_ref_key": "ref-key-for-intake-tests-0123456789abcdef",
                "public_base_url": "https://intake.example.org",
                "api_key_cache_s": 0,
                "log_json": False,
                **overrides,
            }
        )
        app = create_app(settings)
        database = Database(url)
        made.append((app, database))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i")
        return Intake(client, database, url, keys)

    yield make
    for app, database in made:
        await database.dispose()
        await app.state.runtime.database.dispose()


@pytest.fixture
async def intake(make_intake: MakeIntake) -> Intake:
    return await make_intake()


def _not_found(answer: httpx.Response) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.json() == {
        "type": f"{PROBLEMS}/not-found",
        "title": "Complaint not found",
        "status": 404,
        "instance": answer.url.path,
    }


async def test_a_complaint_records_the_front_end_that_posted_it(intake: Intake) -> None:
    posted = await intake.post("web-shop")
    assert (await intake.row(posted["id"])).front_end == "web-shop"


async def test_a_key_cannot_read_write_or_withdraw_another_front_ends_complaint(
    intake: Intake,
) -> None:
    theirs = await intake.post("web-shop")
    path = f"/v1/complaints/{theirs['id']}"
    before = await intake.count(OutboxMessage)
    for answer in (
        await intake.client.get(path, headers=intake.key("partner-x")),
        await intake.client.post(
            f"{path}/messages", json={"text": "Any news?"}, headers=intake.key("partner-x")
        ),
        await intake.client.post(
            f"{path}/withdraw", json={"reason": "sorted"}, headers=intake.key("partner-x")
        ),
    ):
        _not_found(answer)  # the same answer as for a complaint that does not exist
    unknown = await intake.client.get(f"/v1/complaints/{UNKNOWN}", headers=intake.key("partner-x"))
    _not_found(unknown)
    assert await intake.count(OutboxMessage) == before
    assert (await intake.row(theirs["id"])).status == "received"
    # Its own front end's key still does all three.
    assert (await intake.client.get(path, headers=intake.key("web-shop"))).status_code == 200
    own = await intake.client.post(
        f"{path}/messages", json={"text": "Any news?"}, headers=intake.key("web-shop")
    )
    assert own.status_code == 201, own.text


async def test_a_key_never_gets_the_staff_view(intake: Intake) -> None:
    original = await intake.post("web-shop")
    posted = await intake.post("web-shop", complaint(customer_id="cust-2002"))
    cid = posted["id"]
    await intake.project(
        ComplaintTriaged(
            complaint_id=cid,
            category="billing_refund",
            confidence=0.9,
            priority="P2",
            emotion="yellow",
            repeat_count=2,
        ),
        source="routing",
    )
    await intake.project(
        ComplaintEscalated.model_validate(
            {
                "complaint_id": cid,
                "level": 2,
                "previous_level": 0,
                "trigger": "resolution_breach",
                "reason": "clock breached",
                "clock_id": "clk-1",
                "metric": "resolution",
                "actor": "sla-watch",
            }
        ),
        source="sla-watch",
    )
    await intake.project(
        ComplaintDuplicateLinked(
            complaint_id=cid,
            duplicate_of=original["id"],
            matched_on=("same_email",),
            actor="routing",
        ),
        source="routing",
    )
    path = f"/v1/complaints/{cid}"
    view = (await intake.client.get(path, headers=intake.key("web-shop"))).json()
    customer = (
        await intake.client.get(path, headers={"X-Tracking-Token": posted["tracking_token"]})
    ).json()
    assert view == customer
    for staff_only in ("escalation_level", "duplicate_of", "repeat_count"):
        assert staff_only not in view
    types = [step["type"] for step in view["history"]]
    assert ComplaintEscalated.ce_type() not in types
    assert ComplaintTriaged.ce_type() in types
    triaged = next(s for s in view["history"] if s["type"] == ComplaintTriaged.ce_type())
    assert triaged["data"] == {}  # the rules that fired are routing's
    assert original["id"] not in str(view)


async def test_read_all_reaches_every_complaint_of_its_channels_and_no_other(
    intake: Intake,
) -> None:
    on_web = await intake.post("web-shop", complaint("web"))
    on_phone = await intake.post("partner-x", complaint("phone"))
    on_app = await intake.post("web-shop", complaint("app"))
    for reachable in (on_web, on_phone):
        path = f"/v1/complaints/{reachable['id']}"
        assert (await intake.client.get(path, headers=intake.key("crm"))).status_code == 200
    written = await intake.client.post(
        f"/v1/complaints/{on_web['id']}/messages",
        json={"text": "Called the customer back."},
        headers=intake.key("crm"),
    )
    assert written.status_code == 201, written.text
    path = f"/v1/complaints/{on_app['id']}"
    _not_found(await intake.client.get(path, headers=intake.key("crm")))
    _not_found(await intake.client.post(f"{path}/withdraw", json={}, headers=intake.key("crm")))
    # Without the scope, a key with every channel still reaches only its own.
    _not_found(
        await intake.client.get(f"/v1/complaints/{on_phone['id']}", headers=intake.key("web-shop"))
    )


async def test_a_revoked_key_is_refused(intake: Intake) -> None:
    posted = await intake.post("web-shop")
    [key] = list(await list_api_keys(database=intake.database, front_end="web-shop"))
    await revoke_api_key(database=intake.database, key_id=key.id, reason="leaked", by="ops")
    for answer in (
        await intake.client.get(f"/v1/complaints/{posted['id']}", headers=intake.key("web-shop")),
        await intake.client.post(
            "/v1/complaints", json=complaint(), headers=intake.key("web-shop")
        ),
    ):
        assert answer.status_code == 401
        assert answer.json()["detail"] == "The X-API-Key is not valid."


async def test_a_rotated_key_keeps_its_front_end(intake: Intake) -> None:
    posted = await intake.post("web-shop")
    path = f"/v1/complaints/{posted['id']}"
    [old] = await list_api_keys(database=intake.database, front_end="web-shop")
    rotated = await rotate_api_key(
        database=intake.database, key_id=old.id, grace=timedelta(hours=1), by="ops"
    )
    assert rotated.front_end == "web-shop"
    new_key = {"X-API-Key": rotated.key}
    assert (await intake.client.get(path, headers=new_key)).status_code == 200
    # The old one works during the grace period.
    assert (await intake.client.get(path, headers=intake.key("web-shop"))).status_code == 200
    again = await rotate_api_key(
        database=intake.database, key_id=rotated.key_id, grace=timedelta(0), by="ops"
    )
    # Rotated at once: the previous key stops now, the newest reaches the same complaints.
    assert (await intake.client.get(path, headers=new_key)).status_code == 401
    newest = await intake.client.get(path, headers={"X-API-Key": again.key})
    assert newest.status_code == 200


async def test_two_front_ends_ids_are_two_customers(intake: Intake) -> None:
    """Two CRMs' cust-1001: different references and ``id:`` identity keys; the same
    e-mail address still gives the same ``email:`` key."""
    a = await intake.post("web-shop", complaint(customer_id="cust-1001"))
    b = await intake.post("partner-x", complaint(customer_id="cust-1001"))
    same = await intake.post("web-shop", complaint(customer_id="cust-1001"))
    refs = [(await intake.row(p["id"])).customer_ref for p in (a, b, same)]
    assert refs[0] != refs[1]
    assert refs[0] == refs[2]
    first, second, _ = await intake.received_events()
    assert first.customer.identity_keys[0] != second.customer.identity_keys[0]
    assert first.customer.identity_keys[1] == second.customer.identity_keys[1]  # e-mail


async def test_front_ends_configured_as_shared_share_their_customer_ids(
    make_intake: MakeIntake,
) -> None:
    intake = await make_intake(shared_customer_id_front_ends="web-shop,partner-x")
    a = await intake.post("web-shop", complaint(customer_id="cust-1001"))
    b = await intake.post("partner-x", complaint(customer_id="cust-1001"))
    c = await intake.post("crm", complaint(customer_id="cust-1001"))
    refs = [(await intake.row(p["id"])).customer_ref for p in (a, b, c)]
    assert refs[0] == refs[1]
    assert refs[2] != refs[0]  # crm is not one of them
