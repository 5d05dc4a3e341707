"""Intake's HTTP answers in-process (the app of ``create_app`` over httpx's ASGI transport, no
lifespan: no Kafka; SQLite migrated by intake's own Alembic scripts): statuses, problem
documents and headers exactly as front ends, customers and notify see them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_runtime.database import Database
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet
from intake.cli import create_api_key
from intake.config import IntakeSettings
from intake.main import MIGRATIONS, create_app
from sqlalchemy import text

PROBLEMS = "https://docs.opencomplaints.org/problems"
UNAUTHORIZED = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
COMPLAINT: dict[str, Any] = {
    "channel": "web",
    "customer": {
        "customer_id": "CRM-7",
        "name": "Zhang Wei",
        "phone": "+8613812345678",
        "email": "zhang.wei@example.com",
    },
    "subject": "Refund missing",
    "description": "I returned the order a month ago.",
    "attachments": [
        {"url": "https://files.example.com/r.jpg", "media_type": "image/jpeg", "size": 1}
    ],
    "metadata": {"campaign": "double-11"},
}


class Intake:
    def __init__(
        self, client: httpx.AsyncClient, url: str, keys: dict[str, str], identity: DevIdentity
    ):
        self.client = client
        self.url = url
        self.keys = keys
        self.identity = identity

    def as_service(self, caller: str = "notify", audience: str = "intake") -> dict[str, str]:
        """A service's own token (notify's for intake, unless told)."""
        token = self.identity.service_token(caller=caller, audience=audience)
        return {"Authorization": f"Bearer {token}"}

    def as_staff(self, *roles: str, audience: str = "intake") -> dict[str, str]:
        token = self.identity.token(subject="li", roles=list(roles), audience=audience)
        return {"Authorization": f"Bearer {token}"}

    def as_front_end(self, name: str = "all") -> dict[str, str]:
        return {"X-API-Key": self.keys[name]}

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.client.post(
            "/v1/complaints", json=body, headers=self.as_front_end() | headers
        )

    async def count(self, table: str) -> int:
        database = Database(self.url)
        try:
            async with database.sessions() as session:
                return int(
                    (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                )
        finally:
            await database.dispose()


@pytest.fixture
async def intake(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    keys = {
        "all": await create_api_key(database_url=url, label="call centre", channels=["*"]),
        "app": await create_api_key(database_url=url, label="app", channels=["app", "wechat"]),
    }
    settings = IntakeSettings(
        database_url=url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
        public_base_url="https://intake.example.org",
        auth_jwks=identity.jwks(),
        log_json=False,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Intake(client, url, keys, identity)
    await app.state.runtime.database.dispose()


def _problem(status: int, title: str, kind: str, path: str, detail: str | None = None) -> Any:
    body: dict[str, Any] = {
        "type": f"{PROBLEMS}/{kind}",
        "title": title,
        "status": status,
        "instance": path,
    }
    if detail is not None:
        body["detail"] = detail
    return body


async def test_posting_without_a_key_is_unauthorized_with_the_scheme(intake: Intake) -> None:
    answer = await intake.client.post("/v1/complaints", json=COMPLAINT)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == UNAUTHORIZED["WWW-Authenticate"]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == _problem(
        401,
        "Unauthorized",
        "unauthorized",
        "/v1/complaints",
        "Send the channel's API key in the X-API-Key header.",
    )


async def test_an_unknown_key_is_unauthorized(intake: Intake) -> None:
    answer = await intake.client.post(
        "/v1/complaints", json=COMPLAINT, headers={"X-API-Key": "ck_nope"}
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == UNAUTHORIZED["WWW-Authenticate"]
    assert answer.json() == _problem(
        401, "Unauthorized", "unauthorized", "/v1/complaints", "The X-API-Key is not valid."
    )


async def test_a_key_posts_only_for_its_channels(intake: Intake) -> None:
    answer = await intake.client.post(
        "/v1/complaints", json=COMPLAINT, headers=intake.as_front_end("app")
    )
    assert answer.status_code == 403
    assert answer.json() == _problem(
        403,
        "Channel not allowed for this API key",
        "channel-not-allowed",
        "/v1/complaints",
        "This key may post for app, wechat, not web.",
    )
    assert await intake.count("complaints") == 0


async def test_a_complaint_is_accepted_with_its_tracking_link(intake: Intake) -> None:
    answer = await intake.post(COMPLAINT)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {
        "id",
        "reference",
        "status",
        "tracking_token",
        "tracking_url",
        "received_at",
    }
    assert answer.headers["location"] == f"/v1/complaints/{body['id']}"
    assert "idempotent-replayed" not in answer.headers
    assert body["status"] == "received"
    assert body["reference"].startswith("C-")
    # The token is a path segment of the tracking page's link, never a query parameter.
    assert body["tracking_url"] == f"https://intake.example.org/t/{body['tracking_token']}"
    assert await intake.count("complaints") == 1
    assert await intake.count("outbox_messages") == 1


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"customer": {**COMPLAINT["customer"], "name": "Zhang\r\nWei"}}, "/customer/name"),
        ({"customer": {**COMPLAINT["customer"], "name": "Zhang\u2028Wei"}}, "/customer/name"),
        ({"subject": "Refund\nBcc: x@example.com"}, "/subject"),
        ({"order_ref": "ORD-1\r2"}, "/order_ref"),
        ({"metadata": {"source": "web\nform"}}, "/metadata/source"),
    ],
)
async def test_a_line_break_in_a_one_line_field_is_refused(
    intake: Intake, change: dict[str, Any], pointer: str
) -> None:
    """A name with CR/LF made every e-mail of the complaint fail: refused at the door."""
    answer = await intake.post(COMPLAINT | change)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in answer.json()["errors"]] == [pointer]
    assert await intake.count("complaints") == 0


async def test_a_description_keeps_its_line_breaks(intake: Intake) -> None:
    answer = await intake.post(COMPLAINT | {"description": "Line 1\r\nLine 2\n\tend"})
    assert answer.status_code == 201, answer.text


async def test_a_nul_anywhere_is_refused_before_it_reaches_the_database(intake: Intake) -> None:
    answer = await intake.post(COMPLAINT | {"description": "Refund\u0000 missing"})
    assert answer.status_code == 422, answer.text
    assert [e["code"] for e in answer.json()["errors"]] == ["string_nul"]


async def test_the_same_idempotency_key_and_body_replays_the_answer(intake: Intake) -> None:
    first = await intake.post(COMPLAINT, **{"Idempotency-Key": "k-1"})
    again = await intake.post(COMPLAINT, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert await intake.count("complaints") == 1
    other = await intake.post(COMPLAINT, **{"Idempotency-Key": "k-2"})
    assert other.json()["id"] != first.json()["id"]


async def test_the_same_idempotency_key_with_another_body_is_refused(intake: Intake) -> None:
    await intake.post(COMPLAINT, **{"Idempotency-Key": "k-1"})
    answer = await intake.post(
        COMPLAINT | {"subject": "Another subject"}, **{"Idempotency-Key": "k-1"}
    )
    assert answer.status_code == 422
    assert answer.json() == _problem(
        422,
        "Idempotency-Key reused with a different body",
        "idempotency-key-reused",
        "/v1/complaints",
        "This Idempotency-Key was already used for another request; use a new key.",
    )
    assert await intake.count("complaints") == 1


async def test_viewing_needs_a_key_or_a_token(intake: Intake) -> None:
    complaint_id = (await intake.post(COMPLAINT)).json()["id"]
    answer = await intake.client.get(f"/v1/complaints/{complaint_id}")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == UNAUTHORIZED["WWW-Authenticate"]
    assert answer.json() == _problem(
        401,
        "Unauthorized",
        "unauthorized",
        f"/v1/complaints/{complaint_id}",
        "Send an X-API-Key, or the tracking token (X-Tracking-Token or ?token=).",
    )


@pytest.mark.parametrize("which", ["unknown", "too long", "another token"])
async def test_what_a_caller_may_not_see_is_not_found(intake: Intake, which: str) -> None:
    complaint_id = (await intake.post(COMPLAINT)).json()["id"]
    path, headers = {
        "unknown": ("/v1/complaints/0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40", intake.as_front_end()),
        "too long": (f"/v1/complaints/{complaint_id}x", intake.as_front_end()),
        "another token": (f"/v1/complaints/{complaint_id}", {"X-Tracking-Token": "not-it"}),
    }[which]
    for answer in (
        await intake.client.get(path, headers=headers),
        await intake.client.post(f"{path}/messages", json={"text": "hello"}, headers=headers),
    ):
        assert answer.status_code == 404
        assert answer.json() == _problem(404, "Complaint not found", "not-found", answer.url.path)
    assert await intake.count("customer_messages") == 0


async def test_the_front_end_and_the_customer_see_the_customers_view(intake: Intake) -> None:
    accepted = (await intake.post(COMPLAINT)).json()
    path = f"/v1/complaints/{accepted['id']}"
    front_end = (await intake.client.get(path, headers=intake.as_front_end())).json()
    customer = (await intake.client.get(f"{path}?token={accepted['tracking_token']}")).json()
    for view in (front_end, customer):
        assert (view["id"], view["reference"], view["status"]) == (
            accepted["id"],
            accepted["reference"],
            "received",
        )
        assert view["customer"]["masked_phone"] == "138****5678"
        assert view["customer"]["masked_email"] == "z***@example.com"
        assert [step["type"] for step in view["history"]] == [
            "org.opencomplaints.complaint.received.v1"
        ]
    assert front_end == customer
    for staff_only in ("escalation_level", "duplicate_of", "repeat_count"):
        assert staff_only not in customer
    assert customer["history"][0]["data"] == {}


async def test_the_customer_writes_about_their_complaint(intake: Intake) -> None:
    accepted = (await intake.post(COMPLAINT)).json()
    path = f"/v1/complaints/{accepted['id']}"
    answer = await intake.client.post(
        f"{path}/messages",
        json={"text": "Here is the receipt.", "channel": "app"},
        headers={"X-Tracking-Token": accepted["tracking_token"]},
    )
    assert answer.status_code == 201, answer.text
    message = answer.json()
    assert set(message) == {"outcome", "message_id", "complaint_id", "received_at", "reopens"}
    assert (message["outcome"], message["reopens"]) == ("message_added", False)
    assert message["complaint_id"] == accepted["id"]
    view = (await intake.client.get(path, headers=intake.as_front_end())).json()
    step = view["history"][-1]
    assert step["type"] == "org.opencomplaints.complaint.customer_message_received.v1"
    assert step["data"] == {}  # the customer's view: the step, not its internals
    assert await intake.count("customer_messages") == 1
    assert await intake.count("outbox_messages") == 2


async def test_notify_gets_the_raw_contacts_with_a_service_token(intake: Intake) -> None:
    accepted = (await intake.post(COMPLAINT)).json()
    path = f"/internal/v1/complaints/{accepted['id']}/contact"
    assert (await intake.client.get(path)).status_code == 401
    answer = await intake.client.get(path, headers=intake.as_service())
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "complaint_id": accepted["id"],
        "reference": accepted["reference"],
        "name": "Zhang Wei",
        "email": "zhang.wei@example.com",
        "phone": "+8613812345678",
        "language": "zh-CN",
        "preferred_channel": None,
        "tracking_url": accepted["tracking_url"],
        "team": None,
        "assignee": None,
        "priority": None,
        "received_at": accepted["received_at"].replace("+00:00", "Z"),
        "timezone": "Asia/Shanghai",  # none of its own: the organisation's
        "first_response_due_at": None,  # sla-watch has not armed the clocks yet
        "resolution_due_at": None,
        "clocks_expected": True,
    }
    unknown = "/internal/v1/complaints/0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40/contact"
    missing = await intake.client.get(unknown, headers=intake.as_service())
    assert missing.status_code == 404
    assert missing.json() == _problem(404, "Complaint not found", "not-found", unknown)


async def test_only_notify_and_routing_read_a_contact(intake: Intake) -> None:
    """notify (to send) and routing (a lead's reveal) are the contact's callers; another
    service's own token is forbidden, a token minted for another service refused."""
    accepted = (await intake.post(COMPLAINT)).json()
    path = f"/internal/v1/complaints/{accepted['id']}/contact"
    for caller in ("notify", "routing"):
        answer = await intake.client.get(path, headers=intake.as_service(caller))
        assert answer.status_code == 200, (caller, answer.text)
    for caller in ("feedback", "sla-watch"):
        refused = await intake.client.get(path, headers=intake.as_service(caller))
        assert refused.status_code == 403, caller
        assert refused.headers["content-type"] == "application/problem+json"
    staff = await intake.client.get(path, headers=intake.as_staff("admin"))
    assert staff.status_code == 403
    elsewhere = await intake.client.get(path, headers=intake.as_service(audience="routing"))
    assert elsewhere.status_code == 401
    staff_elsewhere = await intake.client.get(
        path, headers=intake.as_staff("admin", audience="feedback")
    )
    assert staff_elsewhere.status_code == 401


async def test_an_overloaded_intake_sheds_with_503_and_retry_after(intake: Intake) -> None:
    """While a submission it holds is late, a new one is refused whole: a problem document
    with Retry-After, and nothing stored."""
    admission = intake.client._transport.app.state.dependencies.admission  # type: ignore[attr-defined]
    admission._started[-1] = 0.0  # a submission in flight since the clock's epoch
    answer = await intake.post(COMPLAINT)
    del admission._started[-1]
    assert answer.status_code == 503
    assert answer.headers["Retry-After"].isdigit()
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"{PROBLEMS}/unavailable"
    assert "overloaded" in answer.json()["detail"]
    assert await intake.count("complaints") == 0
    assert (await intake.post(COMPLAINT)).status_code == 201
