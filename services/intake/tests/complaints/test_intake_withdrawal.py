"""The customer withdraws their complaint (§3, Decision: withdrawal), through intake's HTTP
API in-process: the complaint shows closed (``withdrawn``) at once, ``complaint.withdrawn``
leaves through the outbox with the reason masked, further messages and a second withdrawal
are refused; what routing reports afterwards does not open it again; bad input is refused
with nothing stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintFirstResponseSent,
    ComplaintWithdrawn,
)
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet
from intake.cli import create_api_key
from intake.config import IntakeSettings
from intake.db import Complaint, HistoryEntry, OutboxMessage
from intake.main import MIGRATIONS, create_app
from intake.projection import service as projection
from sqlalchemy import func, select

PROBLEMS = "https://docs.opencomplaints.org/problems"
COMPLAINT: dict[str, Any] = {
    "channel": "web",
    "customer": {
        "customer_id": "CRM-8",
        "name": "Zhang Wei",
        "email": "zhang.wei@example.com",
        "language": "en",
    },
    "subject": "Refund missing",
    "description": "I returned the order a month ago.",
}
REASON = "The refund arrived after all; call 13812345678 if anything is missing."
MASKED = "The refund arrived after all; call 138****5678 if anything is missing."


@dataclass
class Intake:
    client: httpx.AsyncClient
    database: Database
    key: str

    async def post(self) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/complaints", json=COMPLAINT, headers={"X-API-Key": self.key}
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def withdraw(
        self, accepted: dict[str, Any], body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/complaints/{accepted['id']}/withdraw",
            json={} if body is None else body,
            headers=headers or {"X-Tracking-Token": accepted["tracking_token"]},
        )

    async def view(self, complaint_id: str, **headers: str) -> dict[str, Any]:
        answer = await self.client.get(
            f"/v1/complaints/{complaint_id}", headers=headers or {"X-API-Key": self.key}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def project(self, data: EventData, *, at: datetime | None = None) -> None:
        """Another service's event, projected as intake's consumer would."""
        event_id = str(uuid.uuid4())
        envelope = Envelope(
            id=event_id,
            type=data.ce_type(),
            source="routing",
            subject=data.complaint_id,  # type: ignore[attr-defined]
            time=at or datetime.now(UTC),
            data=data,
            correlation_id=event_id,
            causation_id=None,
        )
        async with self.database.unit_of_work() as uow:
            await projection.project_event(uow=uow, envelope=envelope)

    async def events(self) -> list[Envelope]:
        async with self.database.sessions() as session:
            rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        return [
            decode(r.key, r.value, [(name, value.encode()) for name, value in r.headers])
            for r in rows
        ]

    async def count(self, model: Any) -> int:
        async with self.database.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(model))).scalar())


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    await upgrade_to_head(MIGRATIONS, url)
    key = await create_api_key(database_url=url, label="call centre", channels=["*"])
    settings = IntakeSettings(
        database_url=url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
        public_base_url="https://intake.example.org",
        log_json=False,
    )
    app = create_app(settings)
    database = Database(url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield Intake(client, database, key)
    await database.dispose()
    await app.state.runtime.database.dispose()


def _closed(complaint_id: str, reason: str, *, at: datetime) -> ComplaintClosed:
    return ComplaintClosed(
        complaint_id=complaint_id,
        reason=reason,  # type: ignore[arg-type]
        evidence_event_id="ev-feedback" if reason in ("confirmed", "auto_closed") else None,
        actor="customer",
        closed_at=at,
    )


async def test_the_customer_withdraws_and_sees_it_closed_at_once(intake: Intake) -> None:
    accepted = await intake.post()
    answer = await intake.withdraw(accepted, {"reason": REASON})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: v for k, v in body.items() if k != "withdrawn_at"} == {
        "complaint_id": accepted["id"],
        "reference": accepted["reference"],
        "status": "closed",
        "close_reason": "withdrawn",
        "reason": MASKED,
    }
    [_received, withdrawn] = await intake.events()
    data = withdrawn.data
    assert isinstance(data, ComplaintWithdrawn)
    assert (withdrawn.subject, withdrawn.source) == (accepted["id"], "intake")
    assert (data.complaint_id, data.reason, data.actor) == (accepted["id"], MASKED, "customer")
    assert data.withdrawn_at == datetime.fromisoformat(body["withdrawn_at"])
    assert data.customer_ref == (await intake.view(accepted["id"]))["customer"]["customer_ref"]
    assert "13812345678" not in withdrawn.data.model_dump_json()

    staff = await intake.view(accepted["id"])
    assert (staff["status"], staff["close_reason"]) == ("closed", "withdrawn")
    assert staff["history"][-1]["type"] == ComplaintWithdrawn.ce_type()
    assert staff["history"][-1]["data"] == {"reason": MASKED}
    mine = await intake.view(accepted["id"], **{"X-Tracking-Token": accepted["tracking_token"]})
    assert (mine["status"], mine["close_reason"]) == ("closed", "withdrawn")
    assert mine["history"][-1]["data"] == {"reason": MASKED}


async def test_a_withdrawn_complaint_refuses_messages_and_a_second_withdrawal(
    intake: Intake,
) -> None:
    accepted = await intake.post()
    assert (await intake.withdraw(accepted)).status_code == 200
    before = len(await intake.events())
    message = await intake.client.post(
        f"/v1/complaints/{accepted['id']}/messages",
        json={"text": "Please look again."},
        headers={"X-Tracking-Token": accepted["tracking_token"]},
    )
    assert message.status_code == 409, message.text
    assert message.json()["type"] == f"{PROBLEMS}/complaint-withdrawn"
    again = await intake.withdraw(accepted, {"reason": "double click"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json() == {
        "type": f"{PROBLEMS}/complaint-withdrawn",
        "title": "Complaint withdrawn",
        "status": 409,
        "detail": (
            "This complaint was already withdrawn; nothing more is needed. "
            "Please post a new complaint if you need help again."
        ),
        "instance": f"/v1/complaints/{accepted['id']}/withdraw",
    }
    assert len(await intake.events()) == before


async def test_a_complaint_closed_otherwise_cannot_be_withdrawn(intake: Intake) -> None:
    accepted = await intake.post()
    await intake.project(_closed(accepted["id"], "confirmed", at=datetime.now(UTC)))
    before = len(await intake.events())
    refused = await intake.withdraw(accepted)
    assert refused.status_code == 409
    assert refused.json()["type"] == f"{PROBLEMS}/complaint-closed"
    assert "already closed" in refused.json()["detail"]
    assert len(await intake.events()) == before
    assert (await intake.view(accepted["id"]))["close_reason"] == "confirmed"


async def test_routing_s_later_steps_do_not_open_it_again(intake: Intake) -> None:
    """Steps routing took before it consumed the withdrawal arrive after it: the complaint
    stays closed; routing's own closure sets the closure's time it recorded."""
    accepted = await intake.post()
    assert (await intake.withdraw(accepted)).status_code == 200
    later = datetime.now(UTC) + timedelta(seconds=1)
    await intake.project(
        ComplaintAssigned(
            complaint_id=accepted["id"], team="billing", assignee="agent-li", actor="routing"
        ),
        at=later,
    )
    await intake.project(
        ComplaintFirstResponseSent(
            complaint_id=accepted["id"], actor="agent-li", responded_at=later
        ),
        at=later,
    )
    view = await intake.view(accepted["id"])
    assert (view["status"], view["close_reason"], view["assignee"]) == (
        "closed",
        "withdrawn",
        "agent-li",
    )
    closed_at = later + timedelta(seconds=1)
    await intake.project(_closed(accepted["id"], "withdrawn", at=closed_at), at=closed_at)
    async with intake.database.sessions() as session:
        row = await session.get(Complaint, accepted["id"])
    assert row is not None
    assert (row.status, row.close_reason, row.closed_at) == ("closed", "withdrawn", closed_at)


async def test_a_front_end_withdraws_for_the_customer_without_a_reason(intake: Intake) -> None:
    accepted = await intake.post()
    answer = await intake.withdraw(accepted, {"reason": "   "}, **{"X-API-Key": intake.key})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reason"] is None
    withdrawn = (await intake.events())[-1].data
    assert isinstance(withdrawn, ComplaintWithdrawn)
    assert (withdrawn.reason, withdrawn.actor) == (None, "customer")


@pytest.mark.parametrize("which", ["unknown", "other token", "too long"])
async def test_what_the_caller_may_not_see_is_not_found(intake: Intake, which: str) -> None:
    accepted = await intake.post()
    other = await intake.post()
    target = {
        "unknown": {**accepted, "id": str(uuid.uuid4())},
        "other token": {**other, "tracking_token": accepted["tracking_token"]},
        "too long": {**accepted, "id": "x" * 300},
    }[which]
    answer = await intake.withdraw(target)
    assert answer.status_code == 404, answer.text
    assert answer.json()["title"] == "Complaint not found"
    assert (await intake.view(other["id"]))["status"] == "received"


async def test_withdrawing_needs_a_key_or_a_token(intake: Intake) -> None:
    accepted = await intake.post()
    answer = await intake.client.post(f"/v1/complaints/{accepted['id']}/withdraw", json={})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [{"reason": "x" * 2001}, {"reason": "长" * 3000}, {"reason": "a\x00b"}, {"why": "x"}],
)
async def test_bad_input_is_a_422_and_nothing_is_stored(
    intake: Intake, body: dict[str, Any]
) -> None:
    accepted = await intake.post()
    before = (len(await intake.events()), await intake.count(HistoryEntry))
    answer = await intake.withdraw(accepted, body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] in ("reason", "why")
    assert (len(await intake.events()), await intake.count(HistoryEntry)) == before
    assert (await intake.view(accepted["id"]))["status"] == "received"


async def test_the_operation_is_documented(intake: Intake) -> None:
    spec = (await intake.client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/complaints/{complaint_id}/withdraw"]["post"]
    assert operation["summary"] == "The customer withdraws their complaint"
    assert "complaint-withdrawn" in operation["description"]
    assert {"200", "401", "404", "409", "422"} <= set(operation["responses"])
    assert operation["responses"]["409"]["content"] == {"application/problem+json": {}}
    reason = spec["components"]["schemas"]["WithdrawalIn"]["properties"]["reason"]
    assert "masked" in reason["description"]
