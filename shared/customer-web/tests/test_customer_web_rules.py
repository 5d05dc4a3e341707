"""The customer pages' shared rules: language choice, times in the customer's zone, the
shared words, CSRF tokens bound to the link cookie, cookie attributes, rate limits, the
served assets, the security headers and the redaction of link secrets in logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from complaint_customer_web.assets import asset_routes, asset_urls, load_assets
from complaint_customer_web.catalog import STATUS_WORDS, Catalog, Translator, status_word
from complaint_customer_web.cookies import page_cookie, secure_for
from complaint_customer_web.csrf import csrf_ok, csrf_token, derive_key
from complaint_customer_web.language import choose_language, from_accept_language
from complaint_customer_web.logredact import RedactingFilter
from complaint_customer_web.security import SecurityHeadersMiddleware
from complaint_customer_web.throttle import Rule, Throttle, parse_limit
from complaint_customer_web.times import (
    format_date,
    format_time,
    is_zone_name,
    zone_label,
    zone_of,
)
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENT = datetime(2026, 12, 14, 1, 30, tzinfo=UTC)  # Monday 09:30 in Shanghai


@pytest.mark.parametrize(
    ("chosen", "preferred", "accept", "expected"),
    [
        ("en", "zh-CN", "zh-CN", "en"),  # the page's switch wins
        (None, "en", "zh-CN,zh;q=0.9", "en"),  # then the complaint's language
        (None, None, "en-GB,en;q=0.9", "en"),  # then the browser's
        (None, None, "fr-FR, de;q=0.5", "zh-CN"),  # neither: zh-CN first
        ("xx", "yy", "zh-TW", "zh-CN"),  # unknown values are ignored
        (None, None, "en;q=0.5, zh;q=0.5", "zh-CN"),  # a tie goes to zh-CN
    ],
)
def test_the_language_is_the_switch_then_the_complaint_then_the_browser(
    chosen: str | None, preferred: str | None, accept: str, expected: str
) -> None:
    assert choose_language(chosen=chosen, preferred=preferred, accept_language=accept) == expected


def test_accept_language_weights_and_junk() -> None:
    assert from_accept_language("en;q=0.9, zh-CN;q=0.8") == "en"
    assert from_accept_language("zh;q=0, en;q=0.1") == "en"
    assert from_accept_language("en;q=abc") is None
    assert from_accept_language("") is None


def test_times_are_shown_in_the_zone_and_the_language() -> None:
    assert format_time(MOMENT, SHANGHAI, "zh-CN") == "2026年12月14日 周一 09:30"
    assert format_time(MOMENT, SHANGHAI, "en") == "Mon 14 Dec 2026, 09:30"
    berlin = ZoneInfo("Europe/Berlin")
    assert format_time(MOMENT, berlin, "en") == "Mon 14 Dec 2026, 02:30"
    assert format_date(MOMENT, berlin, "zh-CN") == "2026年12月14日"
    assert zone_label(SHANGHAI, MOMENT) == "Asia/Shanghai, UTC+08:00"
    assert zone_label(ZoneInfo("America/St_Johns"), MOMENT) == "America/St_Johns, UTC-03:30"
    # A naive time from the database is UTC.
    assert format_time(MOMENT.replace(tzinfo=None), SHANGHAI, "en").endswith("09:30")


def test_only_real_zone_names_are_zones() -> None:
    assert is_zone_name("Asia/Shanghai")
    assert is_zone_name("UTC")
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "/etc/localtime", "x" * 65):
        assert not is_zone_name(bad), bad
    assert zone_of("Mars/Olympus").key == "Asia/Shanghai"
    assert zone_of(None, fallback="Europe/Berlin").key == "Europe/Berlin"


def test_the_status_words_of_the_ui_guide() -> None:
    assert STATUS_WORDS["zh-CN"] == {
        "received": "已受理",
        "in_progress": "处理中",
        "awaiting_customer": "待您回复",
        "resolved": "已解决",
        "closed": "已关闭",
        "withdrawn": "已撤回",
    }
    assert status_word("awaiting_customer", "en") == "Waiting for you"
    assert set(STATUS_WORDS["en"]) == set(STATUS_WORDS["zh-CN"])


def test_the_shared_words_exist_in_both_languages_and_services_add_theirs() -> None:
    catalog = Catalog()
    assert catalog.missing() == {}
    extended = catalog.with_messages({"zh-CN": {"x": "中 {n}"}, "en": {"x": "x {n}"}})
    assert Translator(extended, "en").t("x", n=3) == "x 3"
    assert Translator(extended, "zh-CN").t("button.send") == "发送"
    lopsided = catalog.with_messages({"zh-CN": {"only": "只有中文"}})
    assert lopsided.missing() == {"en": {"only"}}
    assert lopsided.text("en", "only") == "只有中文"  # never a raw key for a customer


def test_csrf_tokens_are_bound_to_the_cookie_and_the_key() -> None:
    key = derive_key(b"service secret")
    token = csrf_token(key, bound_to="link-token-1")
    assert csrf_ok(key, bound_to="link-token-1", submitted=token)
    assert not csrf_ok(key, bound_to="link-token-2", submitted=token)  # a rotated link
    assert not csrf_ok(derive_key(b"other"), bound_to="link-token-1", submitted=token)
    assert not csrf_ok(key, bound_to=None, submitted=token)
    assert not csrf_ok(key, bound_to="link-token-1", submitted=None)
    assert not csrf_ok(key, bound_to="link-token-1", submitted="x" * 101)
    assert "link-token-1" not in token


def test_cookies_are_secure_unless_the_pages_are_plain_http() -> None:
    assert secure_for("https://complaints.example.com")
    assert not secure_for("http://127.0.0.1:8001")
    spec = page_cookie(public_base_url="https://c.example.com", path="/c/1", max_age=60)
    assert spec.attributes() == {
        "path": "/c/1",
        "secure": True,
        "max_age": 60,
        "httponly": True,
        "samesite": "lax",
    }


async def test_the_throttle_refuses_after_the_limit_with_its_headers() -> None:
    throttle = Throttle()
    link = Rule(parse_limit("2/minute"), "view:link:a")
    client = Rule(parse_limit("10/minute"), "view:client:1.2.3.4")
    first = await throttle.check([link, client])
    assert first.allowed
    assert first.headers()["RateLimit-Remaining"] == "1"
    assert first.headers()["RateLimit-Policy"] == "2;w=60"
    assert (await throttle.check([link, client])).allowed
    refused = await throttle.check([link, client])
    assert not refused.allowed
    headers = refused.headers()
    assert headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(headers["Retry-After"]) <= 60
    # Another link of the same client is not refused.
    other = Rule(parse_limit("2/minute"), "view:link:b")
    assert (await throttle.check([other, client])).allowed


def test_a_bad_limit_or_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="couldn't parse"):
        parse_limit("often")
    with pytest.raises(ValueError, match="async"):
        Throttle("memory://")


async def test_assets_are_served_with_a_long_cache_for_their_version() -> None:
    assets = load_assets()
    urls = asset_urls(assets)
    app = Starlette(routes=asset_routes(assets))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://pages"
    ) as client:
        css = await client.get(urls.css)
        assert css.status_code == 200
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "PingFang SC" in css.text
        unversioned = await client.get("/assets/customer.css")
        assert unversioned.headers["cache-control"] == "public, max-age=300"
        again = await client.get(urls.css, headers={"If-None-Match": css.headers["etag"]})
        assert again.status_code == 304
        assert (await client.get("/assets/other.css")).status_code == 404
        assert (await client.get(urls.js)).headers["content-type"].startswith("text/javascript")


async def test_every_answer_carries_the_security_headers() -> None:
    async def hello(_request: object) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/", hello)]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://pages"
    ) as client:
        answer = await client.get("/")
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_log_filter_redacts_messages_arguments_and_event_dicts() -> None:
    redacting = RedactingFilter(lambda text: text.replace("SECRET", "[redacted]"))
    access = logging.LogRecord(
        "uvicorn.access", 20, "x", 1, '%s - "%s %s"', ("1.2.3.4", "GET", "/t/SECRET"), None
    )
    assert redacting.filter(access)
    assert access.getMessage() == '1.2.3.4 - "GET /t/[redacted]"'
    event = logging.LogRecord("app", 40, "x", 1, {"event": "failed", "path": "/t/SECRET"}, (), None)
    assert redacting.filter(event)
    assert event.msg == {"event": "failed", "path": "/t/[redacted]"}
