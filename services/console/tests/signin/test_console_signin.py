"""The development sign-in: a valid platform token for the console signs in; an invalid,
expired, role-less one or one for another service is refused on the form; the pasted
token is not kept; sign-out ends the session; every form needs the session's CSRF token;
the session cookie is HttpOnly, SameSite=Lax, Secure outside development and bounded."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.identity import issue_token
from complaint_runtime.signing_keys import SigningKey
from console.bootstrap import session_secret
from console.config import ConsoleSettings
from console_support import (
    AGENT,
    LEAD,
    Browser,
    FakeUpstream,
    NewBrowser,
    NewDeps,
    token_for,
)


async def test_the_queue_sends_a_visitor_without_session_to_the_sign_in_page(
    browser: NewBrowser,
) -> None:
    visitor = await browser()
    response = await visitor.page("/cases/0192f3a4-5b6c-7d8e-9f00-112233445566")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/signin?next=/cases/0192f3a4-5b6c-7d8e-9f00-112233445566"
    )


async def test_a_valid_token_signs_in_and_the_queue_shows_the_user(
    browser: NewBrowser, identity: DevIdentity
) -> None:
    visitor = await browser()
    response = await visitor.sign_in(token_for(identity, **AGENT))
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = await visitor.page("/")
    assert page.status_code == 200
    assert "agent-billing" in page.text
    assert "已登录。" in page.text or "You are signed in." in page.text


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "令牌无效"),
        ({"ttl_s": -60}, "令牌已过期"),
        ({"roles": ("auditor",)}, "没有坐席、组长、经理或管理员角色"),
        ({"audience": "routing"}, "该令牌不是签发给控制台的"),
        ({"audience": ["routing", "sla-watch"]}, "该令牌不是签发给控制台的"),
        ("   ", "请粘贴平台令牌"),
    ],
    ids=["invalid", "expired", "no-staff-role", "for-routing", "for-others", "empty"],
)
async def test_a_bad_token_is_refused_on_the_form(
    browser: NewBrowser, identity: DevIdentity, token: str | dict[str, Any], message: str
) -> None:
    visitor = await browser()
    response = await visitor.sign_in(
        token if isinstance(token, str) else token_for(identity, **token)
    )
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert (await visitor.page("/")).status_code == 303  # still signed out


async def test_a_token_signed_with_a_key_the_console_does_not_trust_is_refused(
    browser: NewBrowser,
) -> None:
    visitor = await browser()
    forged = issue_token(
        key=SigningKey.generate("dev-identity-provider"),
        subject="agent-billing",
        roles=["agent"],
        audience="console",
    )
    response = await visitor.sign_in(forged)
    assert response.status_code == 422
    assert "令牌无效" in response.text
    assert (await visitor.page("/")).status_code == 303


async def test_a_token_for_another_service_is_refused_and_says_why(
    browser: NewBrowser, identity: DevIdentity
) -> None:
    visitor = await browser()
    await visitor.post("/language", {"language": "en", "next": "/signin"}, from_page="/signin")
    response = await visitor.sign_in(token_for(identity, **AGENT, audience="routing"))
    assert response.status_code == 422
    assert "This token is for another service, not the console." in response.text
    assert (await visitor.page("/")).status_code == 303


async def test_a_token_for_several_audiences_with_the_console_signs_in(
    browser: NewBrowser, identity: DevIdentity, routing: FakeUpstream
) -> None:
    visitor = await browser()
    response = await visitor.sign_in(
        token_for(identity, **AGENT, audience=["console", "routing", "sla-watch"])
    )
    assert response.status_code == 303
    assert (await visitor.page("/")).status_code == 200
    assert visitor.sent(routing.requests("GET", "/v1/cases")[-1])


async def test_the_pasted_token_is_neither_kept_nor_forwarded(
    browser: NewBrowser, identity: DevIdentity, routing: FakeUpstream
) -> None:
    visitor = await browser()
    pasted = token_for(identity, **AGENT)
    response = await visitor.sign_in(pasted)
    cookie = visitor.http.cookies["console_session"]
    kept = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    assert pasted not in json.dumps(kept)
    assert "token" not in kept["user"]
    assert response.status_code == 303
    assert (await visitor.page("/")).status_code == 200
    sent = [call.token for call in routing.seen if call.path != "/openapi.json"]
    assert sent
    assert pasted not in sent
    assert all(visitor.sent(call) for call in routing.seen if call.path != "/openapi.json")


async def test_without_its_signing_key_the_console_signs_nobody_in(
    browser: NewBrowser, identity: DevIdentity
) -> None:
    visitor = await browser(auth_signing_key="")
    page = await visitor.page("/signin")
    assert page.status_code == 200
    response = await visitor.sign_in(token_for(identity, **AGENT))
    assert response.status_code == 503
    assert "AUTH_SIGNING_KEY" in response.text
    assert (await visitor.page("/")).status_code == 303


async def test_a_service_s_key_is_refused_as_the_console_s_key(
    make_deps: NewDeps, identity: DevIdentity
) -> None:
    with pytest.raises(ValueError, match="staff issuer"):
        await make_deps(auth_signing_key=identity.services["routing"].private_jwk())


def test_the_session_secret_is_derived_from_the_signing_key(identity: DevIdentity) -> None:
    settings = ConsoleSettings(log_json=False)
    console = identity.services["console"]
    same = session_secret(settings, SigningKey.from_jwk(console.private_jwk()))
    assert session_secret(settings, console) == same  # every replica: the same key
    assert session_secret(settings, SigningKey.generate("console")) != same
    assert console.private_jwk() not in same
    own = "Zq3vL8wP1rT6yN0cX5bM9kD2hF7jG4sA"
    explicit = ConsoleSettings(log_json=False, console_session_secret=own)
    assert session_secret(explicit, console) == own


async def test_the_session_cookie_is_http_only_same_site_lax_and_bounded(
    browser: NewBrowser,
) -> None:
    visitor = await browser(console_cookie_secure=True, console_session_max_age_s=600)
    response = await visitor.sign_in(token_for(visitor.identity, **AGENT))
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie")
    assert cookie.startswith("console_session=")
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "secure" in lowered
    assert "max-age=600" in lowered


async def test_the_session_ends_with_the_token_it_was_made_from(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    later = timedelta()
    visitor = await browser(await make_deps(clock=lambda: datetime.now(UTC) + later))
    await visitor.sign_in(token_for(visitor.identity, ttl_s=60))
    assert (await visitor.page("/")).status_code == 200
    later = timedelta(seconds=61)
    assert (await visitor.page("/")).status_code == 303


async def test_the_session_ends_after_its_lifetime_whatever_the_token(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    later = timedelta()
    deps = await make_deps(clock=lambda: datetime.now(UTC) + later, console_session_max_age_s=600)
    visitor = await browser(deps)
    await visitor.sign_in(token_for(visitor.identity, ttl_s=3600))
    later = timedelta(seconds=599)
    assert (await visitor.page("/")).status_code == 200
    later = timedelta(seconds=601)
    assert (await visitor.page("/")).status_code == 303


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(agent: Browser) -> None:
    forged = await agent.http.post("/signout", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await agent.page("/")).status_code == 200  # still signed in
    response = await agent.post("/signout", {}, from_page="/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert (await agent.page("/")).status_code == 303


async def test_the_sign_in_form_itself_needs_the_csrf_token(browser: NewBrowser) -> None:
    visitor = await browser()
    response = await visitor.http.post(
        "/signin/token", data={"token": token_for(visitor.identity, **AGENT)}
    )
    assert response.status_code == 403
    assert "表单已失效" in response.text or "Form expired" in response.text
    assert (await visitor.page("/")).status_code == 303


async def test_a_new_session_gets_a_new_csrf_token(browser: NewBrowser) -> None:
    visitor = await browser()
    before = await visitor.csrf("/signin")
    await visitor.sign_in(token_for(visitor.identity, **AGENT))
    after = await visitor.csrf("/")
    assert before != after


async def test_the_development_sign_in_is_off_by_default(browser: NewBrowser) -> None:
    visitor = await browser(console_dev_sign_in=False)
    page = await visitor.page("/signin")
    assert 'name="token"' not in page.text
    response = await visitor.sign_in(token_for(visitor.identity, **AGENT))
    assert response.status_code == 404
    assert (await visitor.page("/")).status_code == 303


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)"]
)
async def test_after_sign_in_only_a_path_of_the_console_is_followed(
    browser: NewBrowser, target: str
) -> None:
    visitor = await browser()
    csrf = await visitor.csrf("/signin")
    response = await visitor.http.post(
        "/signin/token",
        data={"token": token_for(visitor.identity, **LEAD), "csrf_token": csrf, "next": target},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_the_language_switch_is_kept_in_a_cookie(agent: Browser) -> None:
    response = await agent.post("/language", {"language": "en", "next": "/"}, from_page="/")
    assert response.status_code == 303
    page = await agent.page("/")
    assert '<html lang="en">' in page.text
    assert "My queue" in page.text
    await agent.post("/language", {"language": "zh-CN", "next": "/"}, from_page="/")
    page = await agent.page("/")
    assert '<html lang="zh-CN">' in page.text
    assert "我的队列" in page.text


async def test_the_language_defaults_to_the_browser_s_zh_cn_first(browser: NewBrowser) -> None:
    visitor = await browser()
    english = await visitor.page("/signin", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text
    both = await visitor.page("/signin", headers={"Accept-Language": "en;q=0.8,zh;q=0.8"})
    assert '<html lang="zh-CN">' in both.text
    neither = await visitor.page("/signin", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="zh-CN">' in neither.text
