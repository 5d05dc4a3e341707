"""OpenID Connect sign-in against a local provider (running in-process through ASGI): the
user the provider vouches for becomes the session's principal, and the console's calls to
routing carry a short-lived platform token the console signs for that user and routing's
audience only; a provider's token that does not verify, a user without a console role, a
replayed callback are refused."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.identity import Principal
from console.bootstrap import Transports
from console_oidc_provider import CLIENT_ID, CLIENT_SECRET, ISSUER, LocalProvider
from console_support import Browser, FakeUpstream, NewBrowser, NewDeps

OIDC = {
    "console_oidc_issuer": ISSUER,
    "console_oidc_client_id": CLIENT_ID,
    "console_oidc_client_secret": CLIENT_SECRET,
    "console_dev_sign_in": False,
}


@pytest.fixture
def provider() -> LocalProvider:
    return LocalProvider()


@pytest.fixture
async def console(
    browser: NewBrowser,
    make_deps: NewDeps,
    provider: LocalProvider,
    routing: FakeUpstream,
    sla_watch: FakeUpstream,
) -> Browser:
    transports = Transports(
        routing=routing.transport(),
        sla_watch=sla_watch.transport(),
        identity_provider=httpx.ASGITransport(app=provider.app()),
    )
    signed_in = await browser(await make_deps(transports=transports, **OIDC))
    # Whom the console's tokens must name once the provider's user has signed in.
    signed_in.user = Principal("li.lei", frozenset({"agent", "lead"}), "billing")
    return signed_in


async def _sign_in(console: Browser, provider: LocalProvider) -> tuple[httpx.Response, str]:
    """The browser's round trip: the console's redirect, the provider's approval, the
    callback. Returns the callback's answer and the callback address."""
    start = await console.page("/signin/oidc", params={"next": "/board"})
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(f"{ISSUER}/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://console.test/signin/oidc/callback"]
    assert "nonce" in query
    assert "state" in query
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=provider.app()), base_url=ISSUER
    ) as idp:
        approved = await idp.get(authorize)
    callback = approved.headers["location"]
    assert callback.startswith("http://console.test/signin/oidc/callback?code=")
    return await console.page(callback), callback


async def test_the_provider_s_user_becomes_the_session_principal(
    console: Browser, provider: LocalProvider, routing: FakeUpstream
) -> None:
    response, _ = await _sign_in(console, provider)
    assert response.status_code == 303
    assert response.headers["location"] == "/board"
    page = await console.page("/")
    assert page.status_code == 200
    assert "li.lei" in page.text
    assert console.sent(routing.requests("GET", "/v1/cases")[-1])


async def test_the_platform_token_is_short_lived_and_issued_per_request(
    console: Browser, provider: LocalProvider, routing: FakeUpstream, identity: DevIdentity
) -> None:
    import jwt

    await _sign_in(console, provider)
    await console.page("/")
    await console.page("/")
    tokens = [s.token for s in routing.requests("GET", "/v1/cases")]
    console_key = identity.services["console"].private_key.public_key()
    claims = jwt.decode(
        tokens[-1] or "",
        console_key,
        algorithms=["EdDSA"],
        audience="routing",
        issuer="opencomplaints",
    )
    assert claims["exp"] - claims["iat"] == 300


async def test_roles_and_team_missing_from_the_id_token_come_from_userinfo(
    console: Browser, provider: LocalProvider, routing: FakeUpstream
) -> None:
    provider.userinfo_only = frozenset({"roles", "team"})
    response, _ = await _sign_in(console, provider)
    assert response.status_code == 303
    await console.page("/")
    assert console.sent(routing.requests("GET", "/v1/cases")[-1])


@pytest.mark.parametrize(
    ("user", "why"),
    [
        ({"sub": "zhang.san", "roles": ["customer"]}, "no console role"),
        ({"sub": "zhang@example.com", "roles": ["agent"]}, "an e-mail address as the id"),
        ({"sub": "svc", "roles": ["service"]}, "the service role is never a person's"),
    ],
)
async def test_a_user_the_console_cannot_take_is_refused(
    console: Browser, provider: LocalProvider, user: dict[str, Any], why: str
) -> None:
    provider.user = user
    response, _ = await _sign_in(console, provider)
    assert response.status_code == 403, why
    assert "没有使用工作台的角色" in response.text or "no console role" in response.text
    assert (await console.page("/")).status_code == 303


async def test_an_id_token_signed_with_another_key_is_refused(
    console: Browser, provider: LocalProvider
) -> None:
    provider.sign_with_unpublished_key = True
    response, _ = await _sign_in(console, provider)
    assert response.status_code == 401
    assert (await console.page("/")).status_code == 303


async def test_an_id_token_for_another_client_is_refused(
    console: Browser, provider: LocalProvider
) -> None:
    provider.audience = "another-client"
    response, _ = await _sign_in(console, provider)
    assert response.status_code == 401
    assert (await console.page("/")).status_code == 303


async def test_a_callback_replayed_or_forged_signs_nobody_in(
    console: Browser, provider: LocalProvider, browser: NewBrowser
) -> None:
    response, callback = await _sign_in(console, provider)
    assert response.status_code == 303
    stranger = await browser(console.deps)
    replayed = await stranger.page(callback)
    assert replayed.status_code == 401
    assert (await stranger.page("/")).status_code == 303
    forged = await stranger.page("/signin/oidc/callback?code=x&state=y")
    assert forged.status_code == 401


async def test_the_sign_in_page_offers_the_provider(console: Browser) -> None:
    page = await console.page("/signin")
    assert 'href="/signin/oidc?next=/"' in page.text or 'href="/signin/oidc?next=%2F"' in page.text
    assert 'name="token"' not in page.text  # the development sign-in is off


async def test_a_provider_that_cannot_be_reached_is_said_so(
    browser: NewBrowser, make_deps: NewDeps, routing: FakeUpstream
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transports = Transports(
        routing=routing.transport(), identity_provider=httpx.MockTransport(refuse)
    )
    console = await browser(await make_deps(transports=transports, **OIDC))
    response = await console.page("/signin/oidc")
    assert response.status_code == 503
    assert "身份提供方" in response.text or "identity provider" in response.text
