"""The console as a whole: the app builds from its settings alone; no page loads anything
from outside the console; every page declares its language and labels every input; every
POST of every route is refused without the session's CSRF token; security headers; the
static files; errors as pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from console.main import create_app
from console.web.rendering import STATIC
from console_support import (
    CASE_ID,
    LEAD,
    MANAGER,
    Browser,
    FakeUpstream,
    NewBrowser,
)
from fastapi.routing import APIRoute

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
URL_ATTRIBUTES = ("src", "href", "action", "sse-connect", "hx-get", "hx-post", "formaction")


class _PageAudit(HTMLParser):
    """Collects what the checks need: addresses, the lang, inputs and their labels."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.lang: str | None = None
        self.labelled: set[str] = set()
        self.fields: list[dict[str, str | None]] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in attrs if k in URL_ATTRIBUTES and v is not None]
        if tag == "html":
            self.lang = found.get("lang")
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.fields.append(found)
        if tag == "script":
            self._in_script = "src" not in found
        if "style" in found:
            raise AssertionError(f"inline style on <{tag}> (the CSP refuses it)")
        if any(k.startswith("on") for k in found):
            raise AssertionError(f"inline event handler on <{tag}> (the CSP refuses it)")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def audit(html: str) -> _PageAudit:
    page = _PageAudit()
    page.feed(html)
    return page


def assert_self_contained_and_labelled(html: str, where: str) -> None:
    page = audit(html)
    external = [u for u in page.urls if EXTERNAL.match(u)]
    assert not external, (where, external)
    assert page.inline_scripts == 0, where
    if "<html" in html:
        assert page.lang in ("zh-CN", "en"), where
    unlabelled = [
        f for f in page.fields if f.get("id") not in page.labelled and not f.get("aria-label")
    ]
    assert not unlabelled, (where, unlabelled)


def test_the_app_builds_from_the_default_settings() -> None:
    app = create_app()
    assert app.title == "Complaint console"


async def test_no_page_loads_anything_from_outside_the_console(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    visitor = await browser()
    pages: dict[str, str] = {"/signin": (await visitor.page("/signin")).text}
    await visitor.sign_in_as(LEAD)
    for path in (
        "/",
        "/?status=in_progress&q=退款",
        "/team",
        f"/cases/{CASE_ID}",
        "/board",
        "/board/panels?team=billing",
        "/queue/list",
        "/no/such/page",
    ):
        pages[path] = (await visitor.page(path)).text
    routing.down = True
    pages["503"] = (await visitor.page("/")).text
    for where, html in pages.items():
        assert_self_contained_and_labelled(html, where)
    for where in ("/signin", "/", f"/cases/{CASE_ID}", "/board"):
        assert 'href="/static/console.css"' in pages[where]


async def test_a_manager_s_pages_are_self_contained_too(browser: NewBrowser) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    for path in ("/team", "/team?team=billing", "/board?team=billing", f"/cases/{CASE_ID}"):
        assert_self_contained_and_labelled((await manager.page(path)).text, path)


def test_the_stylesheet_downloads_no_font_and_imports_nothing() -> None:
    css = (STATIC / "console.css").read_text("utf-8")
    assert "@font-face" not in css
    assert "@import" not in css
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css)
    assert '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"' in css
    assert ":focus-visible" in css


def _post_routes(app: Any) -> list[str]:
    """Every POST path of the app (FastAPI keeps included routers' routes inside)."""
    found: list[str] = []
    pending = list(app.router.routes)
    while pending:
        route = pending.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending += list(inner.routes)
        elif isinstance(route, APIRoute) and "POST" in route.methods:
            found.append(route.path)
    return sorted(found)


async def test_every_post_is_refused_without_the_csrf_token(
    agent: Browser, routing: FakeUpstream
) -> None:
    paths = _post_routes(create_app(dependencies=agent.deps))
    # 12 case actions, presence, 3 task actions, sign-in, sign-out, language
    assert len(paths) == 19, paths
    for path in paths:
        url = path.replace("{complaint_id}", CASE_ID).replace("{task_id}", "5")
        for data in ({}, {"csrf_token": "forged"}):
            response = await agent.http.post(url, data={**data, "message": "x", "token": "t"})
            assert response.status_code == 403, (path, response.status_code)
    assert not [s for s in routing.seen if s.method == "POST"]
    assert (await agent.page("/")).status_code == 200  # nothing else happened


async def test_security_headers_on_every_answer(agent: Browser) -> None:
    for path in ("/", "/signin", "/static/console.css", "/livez"):
        headers = (await agent.page(path)).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
    page = await agent.page("/")
    assert page.headers["cache-control"] == "no-store"


async def test_the_console_serves_its_own_static_files(agent: Browser) -> None:
    css = await agent.page("/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    js = await agent.page("/static/console.js")
    assert js.status_code == 200


@pytest.mark.parametrize("path", ["/no/such/page", "/cases"])
async def test_an_unknown_address_is_a_not_found_page(agent: Browser, path: str) -> None:
    page = await agent.page(path)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "未找到" in page.text


async def test_health_endpoints_stay_json(agent: Browser) -> None:
    assert (await agent.page("/livez")).json() == {"status": "ok"}


async def test_an_unexpected_error_is_a_page_too(agent: Browser, routing: FakeUpstream) -> None:
    import httpx
    from console.main import create_app as make_app

    def broken(_request: Any) -> Any:
        raise ValueError("a bug")

    routing.answer("GET", "/v1/cases", 200, broken)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(
            app=make_app(dependencies=agent.deps), raise_app_exceptions=False
        ),
        base_url="http://console.test",
        cookies=agent.http.cookies,
    )
    async with client:
        page = await client.get("/")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "出错了" in page.text
