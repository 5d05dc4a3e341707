"""Customers' replies forwarded by notify (``POST /internal/v1/complaints/{id}/messages``):
notify's service token only; the reply becomes the customer's message with the rules of
the customer's own POST (withdrawn: 409, unknown: 404); the same ``external_id`` twice adds
one message; the reopen window is measured to when notify received the reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from complaint_contracts.events import CustomerMessageReceived
from complaint_runtime.dev_identity import DevIdentity
from intake.complaints.db import CustomerMessage

from . import test_intake_messages
from .test_intake_messages import WINDOW_DAYS, Intake

intake = test_intake_messages.intake  # the fixture: intake's app in-process, its database

PROBLEMS = "https://docs.opencomplaints.org/problems"


def reply(**overrides: Any) -> dict[str, Any]:
    return {
        "text": "Thanks, but the refund has still not arrived.",
        "channel": "email",
        "external_id": "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40",
        "received_at": datetime.now(UTC).isoformat(),
        **overrides,
    }


async def forward(
    intake: Intake,
    identity: DevIdentity,
    complaint_id: str,
    body: dict[str, Any],
    *,
    caller: str = "notify",
) -> httpx.Response:
    token = identity.service_token(caller=caller, audience="intake")
    return await intake.client.post(
        f"/internal/v1/complaints/{complaint_id}/messages",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_reply_becomes_the_customers_message_once(
    intake: Intake, identity: DevIdentity
) -> None:
    accepted = await intake.post()
    first = await forward(intake, identity, accepted["id"], reply())
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["outcome"], body["complaint_id"]) == ("message_added", accepted["id"])
    again = await forward(intake, identity, accepted["id"], reply())
    assert again.status_code == 201, again.text
    assert again.json() == body  # the first answer, nothing stored twice
    assert await intake.count(CustomerMessage) == 1
    messages = [e.data for e in await intake.events()]
    received = [m for m in messages if isinstance(m, CustomerMessageReceived)]
    assert [(m.message_id, m.channel) for m in received] == [(body["message_id"], "email")]


async def test_an_sms_reply_is_recorded_on_channel_other(
    intake: Intake, identity: DevIdentity
) -> None:
    accepted = await intake.post()
    answer = await forward(intake, identity, accepted["id"], reply(channel="sms"))
    assert answer.status_code == 201, answer.text
    message = (await intake.events())[-1].data
    assert isinstance(message, CustomerMessageReceived)
    assert message.channel == "other"


async def test_a_withdrawn_complaint_refuses_the_reply(
    intake: Intake, identity: DevIdentity
) -> None:
    accepted = await intake.post()
    await intake.close(accepted["id"], ago=timedelta(days=1), reason="withdrawn")
    answer = await forward(intake, identity, accepted["id"], reply())
    assert answer.status_code == 409
    assert answer.json()["type"] == f"{PROBLEMS}/complaint-withdrawn"
    assert await intake.count(CustomerMessage) == 0


async def test_an_unknown_complaint_is_a_404(intake: Intake, identity: DevIdentity) -> None:
    answer = await forward(intake, identity, "0195f3c2-0000-7000-8000-000000000000", reply())
    assert answer.status_code == 404


@pytest.mark.parametrize("caller", ["routing", "feedback"])
async def test_only_notify_may_forward(intake: Intake, identity: DevIdentity, caller: str) -> None:
    accepted = await intake.post()
    answer = await forward(intake, identity, accepted["id"], reply(), caller=caller)
    assert answer.status_code == 403
    assert await intake.count(CustomerMessage) == 0


async def test_a_customer_token_is_not_enough(intake: Intake) -> None:
    accepted = await intake.post()
    answer = await intake.client.post(
        f"/internal/v1/complaints/{accepted['id']}/messages",
        json=reply(),
        headers={"X-Tracking-Token": accepted["tracking_token"]},
    )
    assert answer.status_code == 401


async def test_the_window_is_measured_to_when_notify_received_the_reply(
    intake: Intake, identity: DevIdentity
) -> None:
    """Closed 30 days and 1 hour ago; the reply reached notify 2 hours ago (intake was down
    since): it still reopens the complaint instead of opening a follow-up."""
    accepted = await intake.post()
    await intake.close(accepted["id"], ago=timedelta(days=WINDOW_DAYS, hours=1))
    received = datetime.now(UTC) - timedelta(hours=2)
    answer = await forward(
        intake, identity, accepted["id"], reply(received_at=received.isoformat())
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcome"] == "message_added"


@pytest.mark.parametrize(
    "change",
    [{"channel": "fax"}, {"external_id": "x" * 59}, {"received_at": "2026-12-07T10:00:00"}],
)
async def test_bad_input_is_a_422(
    intake: Intake, identity: DevIdentity, change: dict[str, Any]
) -> None:
    accepted = await intake.post()
    answer = await forward(intake, identity, accepted["id"], reply(**change))
    assert answer.status_code == 422
