"""The development sign-in: a valid platform token signs in; an invalid, expired or
role-less one is refused on the form; sign-out ends the session; every form needs the
session's CSRF token; the session cookie is HttpOnly, SameSite=Lax, Secure outside
development and bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from console_support import AGENT, LEAD, Browser, NewBrowser, NewDeps, token_for


async def test_the_queue_sends_a_visitor_without_session_to_the_sign_in_page(
    browser: NewBrowser,
) -> None:
    visitor = await browser()
    response = await visitor.page("/cases/0192f3a4-5b6c-7d8e-9f00-112233445566")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/signin?next=/cases/0192f3a4-5b6c-7d8e-9f00-112233445566"
    )


async def test_a_valid_token_signs_in_and_the_queue_shows_the_user(browser: NewBrowser) -> None:
    visitor = await browser()
    response = await visitor.sign_in(token_for(**AGENT))
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
        (token_for(ttl_s=-60), "令牌已过期"),
        (token_for(roles=("service",)), "没有坐席、组长、经理或管理员角色"),
        ("   ", "请粘贴平台令牌"),
    ],
    ids=["invalid", "expired", "no-staff-role", "empty"],
)
async def test_a_bad_token_is_refused_on_the_form(
    browser: NewBrowser, token: str, message: str
) -> None:
    visitor = await browser()
    response = await visitor.sign_in(token)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert (await visitor.page("/")).status_code == 303  # still signed out


async def test_a_token_signed_with_another_secret_is_refused(browser: NewBrowser) -> None:
    from complaint_runtime.identity import issue_token

    visitor = await browser()
    forged = issue_token(
        secret="another-secret-0123456789abcdefghij", subject="agent-billing", roles=["agent"]
    )
    response = await visitor.sign_in(forged)
    assert response.status_code == 422
    assert (await visitor.page("/")).status_code == 303


async def test_the_session_cookie_is_http_only_same_site_lax_and_bounded(
    browser: NewBrowser,
) -> None:
    visitor = await browser(console_cookie_secure=True, console_session_max_age_s=600)
    response = await visitor.sign_in(token_for(**AGENT))
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
    await visitor.sign_in(token_for(ttl_s=60))
    assert (await visitor.page("/")).status_code == 200
    later = timedelta(seconds=61)
    assert (await visitor.page("/")).status_code == 303


async def test_the_session_ends_after_its_lifetime_whatever_the_token(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    later = timedelta()
    deps = await make_deps(clock=lambda: datetime.now(UTC) + later, console_session_max_age_s=600)
    visitor = await browser(deps)
    await visitor.sign_in(token_for(ttl_s=3600))
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
    response = await visitor.http.post("/signin/token", data={"token": token_for(**AGENT)})
    assert response.status_code == 403
    assert "表单已失效" in response.text or "Form expired" in response.text
    assert (await visitor.page("/")).status_code == 303


async def test_a_new_session_gets_a_new_csrf_token(browser: NewBrowser) -> None:
    visitor = await browser()
    before = await visitor.csrf("/signin")
    await visitor.sign_in(token_for(**AGENT))
    after = await visitor.csrf("/")
    assert before != after


async def test_the_development_sign_in_is_off_by_default(browser: NewBrowser) -> None:
    visitor = await browser(console_dev_sign_in=False)
    page = await visitor.page("/signin")
    assert 'name="token"' not in page.text
    response = await visitor.sign_in(token_for(**AGENT))
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
        data={"token": token_for(**LEAD), "csrf_token": csrf, "next": target},
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
