"""The client of intake's and feedback's internal APIs: a service token on every call, and
each kind of answer turned into what the delivery loop acts on (retry, skip, give up)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from complaint_contracts.examples import COMPLAINT_ID
from complaint_runtime.consumer import TransientError
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import NotFound, Unauthorized
from complaint_runtime.identity import ServiceCaller
from notify.adapters.internal_api import BadResponse, InternalApi

CONTACT = {"complaint_id": COMPLAINT_ID, "reference": "C-20261123-000042", "email": ""}

Answer = Callable[[httpx.Request], httpx.Response]


def _checking_the_token(identity: DevIdentity, answer: Answer) -> Answer:
    """Each call carries notify's own token, for the service called only."""

    def handle(request: httpx.Request) -> httpx.Response:
        called = request.url.host.split(".")[0]  # intake.internal, feedback.internal
        token = request.headers["Authorization"][7:]
        principal = identity.verifier(called).verify(token)
        assert principal.service == "notify"
        other = "feedback" if called == "intake" else "intake"
        with pytest.raises(Unauthorized):
            identity.verifier(other).verify(token)
        return answer(request)

    return handle


@pytest.fixture
async def client_answering(
    identity: DevIdentity,
) -> AsyncIterator[Callable[[Answer], InternalApi]]:
    clients: list[InternalApi] = []

    def make(answer: Answer) -> InternalApi:
        client = InternalApi(
            intake_url="http://intake.internal",
            feedback_url="http://feedback.internal",
            caller=ServiceCaller(identity.services["notify"]),
            timeout_s=1.0,
            transport=httpx.MockTransport(_checking_the_token(identity, answer)),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.mark.parametrize("status", [500, 503, 401])
async def test_internal_api_errors_raise_transient_errors(
    client_answering: Callable[[Answer], InternalApi], status: int
) -> None:
    api = client_answering(lambda _: httpx.Response(status, json={"title": "nope"}))
    with pytest.raises(TransientError):
        await api.customer_contact(COMPLAINT_ID)


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_an_unreachable_service_is_transient(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    with pytest.raises(TransientError, match="intake unreachable"):
        await client_answering(_unreachable).customer_contact(COMPLAINT_ID)


async def test_an_unknown_complaint_or_request_is_not_found(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    api = client_answering(lambda _: httpx.Response(404, json={"title": "not found"}))
    with pytest.raises(NotFound, match="intake answered 404"):
        await api.customer_contact(COMPLAINT_ID)
    with pytest.raises(NotFound, match="feedback answered 404"):
        await api.survey_link("req-1")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(400, json={"title": "bad"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json={"complaint_id": COMPLAINT_ID}),  # no reference
    ],
)
async def test_an_off_contract_answer_is_a_bad_response(
    client_answering: Callable[[Answer], InternalApi], response: httpx.Response
) -> None:
    with pytest.raises(BadResponse):
        await client_answering(lambda _: response).customer_contact(COMPLAINT_ID)


async def test_a_contact_without_optional_fields(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    api = client_answering(lambda _: httpx.Response(200, json=CONTACT))
    contact = await api.customer_contact(COMPLAINT_ID)
    assert (contact.reference, contact.email, contact.language) == (
        "C-20261123-000042",
        None,  # an empty address is no address
        "zh-CN",
    )


async def test_an_nps_link_is_fetched_from_feedback_with_its_way_out(
    client_answering: Callable[[Answer], InternalApi],
) -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(
            200,
            json={
                "nps_url": "https://feedback.example/n/tok",
                "opt_out_url": "https://feedback.example/n/tok#opt-out",
                "expires_at": "2026-12-15T01:00:00Z",
            },
        )

    link = await client_answering(answer).nps_link("nps-1")
    assert asked == ["http://feedback.internal/internal/v1/nps/requests/nps-1"]
    assert (link.nps_url, link.opt_out_url, link.expires_at) == (
        "https://feedback.example/n/tok",
        "https://feedback.example/n/tok#opt-out",
        "2026-12-15T01:00:00Z",
    )
    without = client_answering(lambda _: httpx.Response(200, json={"expires_at": None}))
    with pytest.raises(BadResponse, match="no nps_url"):
        await without.nps_link("nps-1")
