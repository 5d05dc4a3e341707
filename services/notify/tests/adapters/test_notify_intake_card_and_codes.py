"""Intake's answers notify reads for the acknowledgement and the lost-link code: the
promised times and zone of the contact card (absent from an older intake: no times, no
wait), and the code, which must be six digits; a code intake no longer gives is a 404,
nothing to send."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from complaint_contracts.examples import COMPLAINT_ID
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import NotFound
from complaint_runtime.identity import ServiceCaller
from notify.adapters.internal_api import BadResponse, InternalApi

CARD: dict[str, Any] = {
    "complaint_id": COMPLAINT_ID,
    "reference": "C-20261207-000042",
    "email": "zhang.wei@example.com",
    "language": "zh-CN",
    "received_at": "2026-12-07T04:30:00Z",
    "timezone": "Europe/Berlin",
    "first_response_due_at": "2026-12-07T06:30:00+00:00",
    "resolution_due_at": None,
    "clocks_expected": False,
}
CODE_PATH = f"/internal/v1/complaints/{COMPLAINT_ID}/tracking-codes/req-1"

Answer = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
async def api_answering(
    identity: DevIdentity,
) -> AsyncIterator[Callable[[Answer], InternalApi]]:
    clients: list[InternalApi] = []

    def make(answer: Answer) -> InternalApi:
        client = InternalApi(
            intake_url="http://intake.internal",
            feedback_url="http://feedback.internal",
            caller=ServiceCaller(identity.services["notify"]),
            timeout_s=1.0,
            transport=httpx.MockTransport(answer),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_the_card_carries_the_promised_times_and_zone(
    api_answering: Callable[[Answer], InternalApi],
) -> None:
    api = api_answering(lambda _: httpx.Response(200, json=CARD))
    contact = await api.customer_contact(COMPLAINT_ID)
    assert contact.received_at == datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    assert contact.first_response_due_at == datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert contact.resolution_due_at is None
    assert (contact.timezone, contact.clocks_expected) == ("Europe/Berlin", False)


@pytest.mark.parametrize(
    "changes",
    [
        {},  # an older intake: none of the fields
        {"first_response_due_at": "tomorrow", "received_at": "2026-12-07T04:30:00"},  # naive
        {"clocks_expected": "yes"},  # only a real true counts
    ],
)
async def test_an_odd_or_older_card_promises_nothing_and_expects_nothing(
    api_answering: Callable[[Answer], InternalApi], changes: dict[str, Any]
) -> None:
    card = {k: v for k, v in CARD.items() if k in ("complaint_id", "reference")} | changes
    api = api_answering(lambda _: httpx.Response(200, json=card))
    contact = await api.customer_contact(COMPLAINT_ID)
    assert contact.first_response_due_at is None
    assert contact.clocks_expected is False
    assert contact.received_at is None


async def test_a_code_is_read_and_must_be_six_digits(
    api_answering: Callable[[Answer], InternalApi],
) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        body = {"request_id": "req-1", "code": "004217", "expires_at": "2026-12-07T04:40:00Z"}
        return httpx.Response(200, json=body)

    code = await api_answering(answer).tracking_code(COMPLAINT_ID, "req-1")
    assert (code.code, code.expires_at) == ("004217", datetime(2026, 12, 7, 4, 40, tzinfo=UTC))
    assert seen == [CODE_PATH]
    for wrong in ("4217", "00421x", None):
        odd = api_answering(lambda _, c=wrong: httpx.Response(200, json={"code": c}))
        with pytest.raises(BadResponse):
            await odd.tracking_code(COMPLAINT_ID, "req-1")
    gone = api_answering(lambda _: httpx.Response(404, json={"title": "gone"}))
    with pytest.raises(NotFound):
        await gone.tracking_code(COMPLAINT_ID, "req-1")
