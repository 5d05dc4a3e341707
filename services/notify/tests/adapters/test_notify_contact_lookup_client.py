# ruff: noqa: F811 (the client fixture is imported, and named as a parameter)
"""The client of intake's batch contact lookup: one POST with a service token and each
complaint once; the whole request fails like the single lookup (except that an intake
without the endpoint says so), and each entry is checked on its own."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from complaint_contracts.examples import COMPLAINT_ID
from complaint_runtime.consumer import TransientError
from notify.adapters.internal_api import (
    CONTACT_BATCH_MAX,
    BadResponse,
    BatchUnsupported,
    InternalApi,
)

from .test_notify_internal_api import CONTACT, Answer, client_answering  # noqa: F401

OTHER_ID = "0196f7a2-0000-7000-8000-0000000000bb"
UNKNOWN = "0196f7a2-0000-7000-8000-0000000000cc"


async def test_one_post_with_each_complaint_once(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    asked: list[tuple[str, str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append((request.method, str(request.url), json.loads(request.content)))
        return httpx.Response(
            200,
            json={
                "contacts": [
                    CONTACT | {"email": "zhang.wei@example.com", "language": "en"},
                    {"complaint_id": OTHER_ID, "email": "x@example.com"},  # no reference
                    CONTACT | {"complaint_id": "never-asked"},  # not ours: ignored
                    "not an object",
                ],
                "not_found": [UNKNOWN, "never-asked", 7],
            },
        )

    api = client_answering(answer)
    batch = await api.customer_contacts([COMPLAINT_ID, OTHER_ID, COMPLAINT_ID, UNKNOWN])
    assert asked == [
        (
            "POST",
            "http://intake.internal/internal/v1/contacts/lookup",
            {"complaint_ids": [COMPLAINT_ID, OTHER_ID, UNKNOWN]},
        )
    ]
    assert set(batch.found) == {COMPLAINT_ID}
    found = batch.found[COMPLAINT_ID]
    assert (found.reference, found.email, found.language) == (
        "C-20261123-000042",
        "zhang.wei@example.com",
        "en",
    )
    assert batch.not_found == {UNKNOWN}
    assert batch.bad == {OTHER_ID: "intake's contact answer has no reference"}


async def test_nothing_asked_is_no_request_and_the_bound_holds(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    api = client_answering(answer)
    assert (await api.customer_contacts([])).found == {}
    with pytest.raises(ValueError, match="at most 100"):
        await api.customer_contacts([f"id-{n}" for n in range(CONTACT_BATCH_MAX + 1)])


@pytest.mark.parametrize("status", [404, 405])
async def test_an_intake_without_the_batch_lookup_says_so(
    client_answering: Callable[[Answer], InternalApi], status: int
) -> None:
    api = client_answering(lambda _: httpx.Response(status, json={"detail": "Not Found"}))
    with pytest.raises(BatchUnsupported):
        await api.customer_contacts([COMPLAINT_ID])


@pytest.mark.parametrize("status", [500, 503, 401, 403, 429])
async def test_an_outage_is_transient(
    client_answering: Callable[[Answer], InternalApi], status: int
) -> None:
    api = client_answering(lambda _: httpx.Response(status, json={"title": "nope"}))
    with pytest.raises(TransientError, match=f"intake answered {status}"):
        await api.customer_contacts([COMPLAINT_ID])


async def test_an_unreachable_intake_is_transient(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TransientError, match="intake unreachable"):
        await client_answering(unreachable).customer_contacts([COMPLAINT_ID])


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(422, json={"title": "bad"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"contacts": []}),  # no not_found
        httpx.Response(200, json={"contacts": {}, "not_found": []}),
    ],
)
async def test_an_off_contract_answer_is_a_bad_response(
    client_answering: Callable[[Answer], InternalApi], response: httpx.Response
) -> None:
    with pytest.raises(BadResponse):
        await client_answering(lambda _: response).customer_contacts([COMPLAINT_ID])
