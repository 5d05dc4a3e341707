"""A customer message on a closed complaint, through intake's HTTP API in-process: within
the reopen window it joins the complaint (feedback reopens it), after it a new complaint
linked to the old one is opened and its tracking token given; a withdrawn complaint
refuses it; bad input is refused with nothing stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import ComplaintClosed, ComplaintReceived, CustomerMessageReceived
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet
from intake.cli import create_api_key
from intake.complaints.db import CustomerMessage
from intake.config import IntakeSettings
from intake.db import Complaint, OutboxMessage
from intake.main import MIGRATIONS, create_app
from intake.projection import service as projection
from sqlalchemy import func, select

PROBLEMS = "https://docs.opencomplaints.org/problems"
WINDOW_DAYS = 30
COMPLAINT: dict[str, Any] = {
    "channel": "web",
    "customer": {
        "customer_id": "CRM-7",
        "name": "Zhang Wei",
        "phone": "+8613812345678",
        "email": "zhang.wei@example.com",
        "language": "en",
        "preferred_channel": "email",
    },
    "subject": "Refund missing",
    "description": "I returned the order a month ago.",
    "order_ref": "ORD-4242",
}


@dataclass
class Intake:
    client: httpx.AsyncClient
    database: Database
    key: str
    web_only_key: str

    async def post(self) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/complaints", json=COMPLAINT, headers={"X-API-Key": self.key}
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def write(self, accepted: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"/v1/complaints/{accepted['id']}/messages",
            json=body,
            headers={"X-Tracking-Token": accepted["tracking_token"]},
        )

    async def view(self, complaint_id: str, **headers: str) -> dict[str, Any]:
        answer = await self.client.get(
            f"/v1/complaints/{complaint_id}", headers=headers or {"X-API-Key": self.key}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def close(self, complaint_id: str, *, ago: timedelta, reason: str = "confirmed") -> None:
        """Routing's complaint.closed, projected: closed ``ago`` before now."""
        closed_at = datetime.now(UTC) - ago
        data = ComplaintClosed(
            complaint_id=complaint_id,
            reason=reason,  # type: ignore[arg-type]
            evidence_event_id="ev-feedback" if reason in ("confirmed", "auto_closed") else None,
            actor="customer",
            closed_at=closed_at,
        )
        event_id = str(uuid.uuid4())
        envelope = Envelope(
            id=event_id,
            type=data.ce_type(),
            source="routing",
            subject=complaint_id,
            time=datetime.now(UTC),  # projected now, after the complaint's own steps
            data=data,
            correlation_id=event_id,
            causation_id=None,
        )
        async with self.database.unit_of_work() as uow:
            await projection.project_event(uow=uow, envelope=envelope)

    async def count(self, model: Any) -> int:
        async with self.database.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar())

    async def events(self) -> list[Envelope]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [
            decode(r.key, r.value, [(name, value.encode()) for name, value in r.headers])
            for r in rows
        ]


@pytest.fixture
async def intake(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    key = await create_api_key(database_url=url, label="call centre", channels=["*"])
    # Another key of the same front end, for one channel only.
    web_only = await create_api_key(
        database_url=url, label="web only", channels=["web"], front_end="call centre"
    )
    settings = IntakeSettings(
        database_url=url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
        public_base_url="https://intake.example.org",
        auth_jwks=identity.jwks(),
        reopen_window_days=WINDOW_DAYS,
        log_json=False,
    )
    app = create_app(settings)
    database = Database(url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Intake(client, database, key, web_only)
    await database.dispose()
    await app.state.runtime.database.dispose()


async def test_within_the_window_the_message_joins_the_closed_complaint(intake: Intake) -> None:
    accepted = await intake.post()
    await intake.close(accepted["id"], ago=timedelta(days=WINDOW_DAYS) - timedelta(minutes=5))
    answer = await intake.write(accepted, {"text": "The refund bounced back again."})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["outcome"], body["complaint_id"], body["reopens"]) == (
        "message_added",
        accepted["id"],
        True,
    )
    message = (await intake.events())[-1].data
    assert isinstance(message, CustomerMessageReceived)
    assert (message.complaint_id, message.message_id) == (accepted["id"], body["message_id"])
    assert await intake.count(Complaint) == 1
    # It stays closed until feedback's reopen is projected.
    assert (await intake.view(accepted["id"]))["status"] == "closed"


async def test_an_open_complaint_takes_the_message_as_before(intake: Intake) -> None:
    accepted = await intake.post()
    answer = await intake.write(accepted, {"text": "Any news?"})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["outcome"], answer.json()["reopens"]) == ("message_added", False)


async def test_after_the_window_the_message_opens_a_linked_complaint(
    intake: Intake, identity: DevIdentity
) -> None:
    old = await intake.post()
    await intake.close(old["id"], ago=timedelta(days=WINDOW_DAYS, minutes=5))
    before = len(await intake.events())
    answer = await intake.write(old, {"text": "The kettle broke again, same fault."})
    assert answer.status_code == 201, answer.text
    new = answer.json()
    assert new["outcome"] == "new_complaint"
    assert answer.headers["location"] == f"/v1/complaints/{new['id']}"
    assert new["id"] != old["id"]
    assert new["reference"].startswith("C-")
    assert new["reference"] != old["reference"]
    assert (new["related_complaint_id"], new["related_reference"]) == (old["id"], old["reference"])
    assert new["status"] == "received"
    assert new["tracking_url"] == f"https://intake.example.org/t/{new['tracking_token']}"
    assert old["reference"] in new["detail"]
    assert new["reference"] in new["detail"]
    # The old complaint got no message; the new one is a complaint like any other.
    assert await intake.count(CustomerMessage) == 0
    [received] = [e.data for e in (await intake.events())[before:]]
    assert isinstance(received, ComplaintReceived)
    assert received.complaint_id == new["id"]
    assert received.related_complaint_id == old["id"]
    assert received.subject == "Re: Refund missing"
    assert received.description == "The kettle broke again, same fault."
    assert (received.channel, received.order_ref) == ("web", "ORD-4242")
    assert received.customer.masked_phone == "138****5678"
    assert received.customer.language == "en"
    # The same customer: same reference, the same raw contacts for notify.
    first = (await intake.events())[0].data
    assert isinstance(first, ComplaintReceived)
    assert received.customer.customer_ref == first.customer.customer_ref
    assert received.customer.identity_keys == first.customer.identity_keys
    token = identity.service_token(caller="notify", audience="intake")
    contact = await intake.client.get(
        f"/internal/v1/complaints/{new['id']}/contact",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (contact.json()["email"], contact.json()["phone"], contact.json()["name"]) == (
        "zhang.wei@example.com",
        "+8613812345678",
        "Zhang Wei",
    )


async def test_the_link_shows_both_ways_to_staff_and_the_customer(intake: Intake) -> None:
    old = await intake.post()
    await intake.close(old["id"], ago=timedelta(days=45))
    new = (await intake.write(old, {"text": "Still broken."})).json()
    for headers in ({"X-API-Key": intake.key}, {"X-Tracking-Token": old["tracking_token"]}):
        old_view = await intake.view(old["id"], **headers)
        assert old_view["status"] == "closed"
        assert old_view["related_complaint"] is None
        assert [(f["id"], f["reference"], f["status"]) for f in old_view["follow_ups"]] == [
            (new["id"], new["reference"], "received")
        ]
    for headers in ({"X-API-Key": intake.key}, {"X-Tracking-Token": new["tracking_token"]}):
        new_view = await intake.view(new["id"], **headers)
        assert new_view["related_complaint"]["id"] == old["id"]
        assert new_view["related_complaint"]["reference"] == old["reference"]
        assert new_view["follow_ups"] == []
    # Each token opens its own complaint only.
    other = await intake.client.get(
        f"/v1/complaints/{new['id']}", headers={"X-Tracking-Token": old["tracking_token"]}
    )
    assert other.status_code == 404


async def test_a_front_end_opens_a_follow_up_only_on_a_channel_its_key_may_post(
    intake: Intake,
) -> None:
    old = await intake.post()
    await intake.close(old["id"], ago=timedelta(days=45))
    path = f"/v1/complaints/{old['id']}/messages"
    refused = await intake.client.post(
        path,
        json={"text": "Still broken.", "channel": "app"},
        headers={"X-API-Key": intake.web_only_key},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == f"{PROBLEMS}/channel-not-allowed"
    allowed = await intake.client.post(
        path, json={"text": "Still broken."}, headers={"X-API-Key": intake.web_only_key}
    )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["outcome"] == "new_complaint"
    assert await intake.count(Complaint) == 2


async def test_a_withdrawn_complaint_refuses_the_message(intake: Intake) -> None:
    accepted = await intake.post()
    await intake.close(accepted["id"], ago=timedelta(days=1), reason="withdrawn")
    before = len(await intake.events())
    answer = await intake.write(accepted, {"text": "Actually, please look again."})
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": f"{PROBLEMS}/complaint-withdrawn",
        "title": "Complaint withdrawn",
        "status": 409,
        "detail": (
            "This complaint was withdrawn; it takes no more messages. Please post a new complaint."
        ),
        "instance": f"/v1/complaints/{accepted['id']}/messages",
    }
    assert len(await intake.events()) == before
    assert await intake.count(Complaint) == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * 10_001, "长" * 20_000])
@pytest.mark.parametrize("closed_days_ago", [None, 1, 45])
async def test_an_empty_or_overlong_message_is_a_422_and_nothing_is_stored(
    intake: Intake, text: str, closed_days_ago: int | None
) -> None:
    accepted = await intake.post()
    if closed_days_ago is not None:
        await intake.close(accepted["id"], ago=timedelta(days=closed_days_ago))
    before = len(await intake.events())
    answer = await intake.write(accepted, {"text": text})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "text"
    assert len(await intake.events()) == before
    assert await intake.count(Complaint) == 1


async def test_a_follow_up_belongs_to_the_front_end_and_customer_of_the_old_one(
    intake: Intake,
) -> None:
    """A follow-up the customer opens is reached by the keys of the front end that posted
    the old complaint (and no other), and is the same customer (the same reference, the
    customer id hashed in the same front end's namespace)."""
    old = await intake.post()
    await intake.close(old["id"], ago=timedelta(days=45))
    new = (await intake.write(old, {"text": "The kettle broke again."})).json()
    assert new["outcome"] == "new_complaint"
    follow_up, original = await intake.view(new["id"]), await intake.view(old["id"])
    assert follow_up["customer"]["customer_ref"] == original["customer"]["customer_ref"]
    other = await create_api_key(
        database_url=str(intake.database.engine.url), label="partner-x", channels=["*"]
    )
    answer = await intake.client.get(f"/v1/complaints/{new['id']}", headers={"X-API-Key": other})
    assert answer.status_code == 404
