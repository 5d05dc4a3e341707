"""The customer's tracking page through intake's app in-process: the link sets a scoped
cookie and redirects without its secret, the page shows the reference, the status in plain
words, the promised times in the customer's zone and the conversation; a message is sent
once and confirmed; bad input is refused on the page with nothing stored; CSRF, a new
link, withdrawal, a closed complaint, the language switch, rate limits and headers."""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintFirstResponseSent,
    SlaClockStarted,
)
from complaint_customer_web.logredact import RedactingFilter
from intake.complaints.db import CustomerMessage
from intake.complaints.domain.tracking import redact_link_paths
from intake.db import Complaint

from .conftest import BASE, MakePages, Pages, hidden_fields, text_of

DUE = datetime(2026, 12, 14, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai, 07:30 in Berlin


async def test_the_link_sets_a_scoped_cookie_and_redirects_without_the_secret(
    pages: Pages,
) -> None:
    accepted = await pages.post()
    token, complaint_id = accepted["tracking_token"], accepted["id"]
    assert accepted["tracking_url"] == f"{BASE}/t/{token}"
    opened = await pages.client.get(f"/t/{token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/c/{complaint_id}"
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"complaint_link={token};")
    for attribute in ("HttpOnly", f"Path=/c/{complaint_id}", "SameSite=lax", "Secure"):
        assert attribute in cookie
    assert opened.headers["cache-control"] == "no-store"
    page = await pages.client.get(f"/c/{complaint_id}")
    assert page.status_code == 200
    assert token not in page.text.replace(f"/t/{token}", "")  # not even the CSRF token
    assert text_of(page.text, "reference") == accepted["reference"]
    assert text_of(page.text, "status") == "已受理"
    assert '<html lang="zh-CN">' in page.text


async def test_a_plain_http_base_url_gets_a_cookie_without_secure(make_pages: MakePages) -> None:
    pages = await make_pages(public_base_url="http://127.0.0.1:8001")
    accepted = await pages.post()
    opened = await pages.client.get(f"/t/{accepted['tracking_token']}")
    assert "Secure" not in opened.headers["set-cookie"]


async def test_a_front_end_asking_for_json_gets_the_view(pages: Pages) -> None:
    accepted = await pages.post()
    answer = await pages.client.get(
        f"/t/{accepted['tracking_token']}", headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["reference"], body["status"]) == (
        accepted["id"],
        accepted["reference"],
        "received",
    )
    assert "set-cookie" not in answer.headers
    unknown = await pages.client.get("/t/nope", headers={"Accept": "application/json"})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/t/not-a-token", "/t/" + "x" * 300, "/c/unknown-id"])
async def test_an_unknown_or_tampered_link_is_a_friendly_page(pages: Pages, path: str) -> None:
    accepted = await pages.post()
    await pages.open(accepted)  # a cookie for another complaint's page is no help
    answer = await pages.client.get(path, headers={"Accept": "text/html"})
    assert answer.headers["content-type"].startswith("text/html")
    if path.startswith("/t/"):
        assert answer.status_code == 404
        assert "链接无效或已失效" in answer.text
    else:
        assert answer.status_code == 403  # no cookie for this page
        assert "请从链接打开此页面" in answer.text


async def test_a_rotated_token_in_the_cookie_is_refused_with_a_page(pages: Pages) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    await pages.submit(page, f"/c/{accepted['id']}/link", {})
    pages.client.cookies.set(
        "complaint_link", accepted["tracking_token"], domain="track.example.org"
    )
    stale = await pages.client.get(f"/c/{accepted['id']}")
    assert stale.status_code == 404
    assert "链接无效或已失效" in stale.text


async def test_the_promised_times_come_from_the_clocks_in_the_customers_zone(
    pages: Pages,
) -> None:
    accepted = await pages.post(timezone="Europe/Berlin")
    page = await pages.open(accepted)
    assert "正在安排，稍后显示" in text_of(page.text, "promise-first_response")
    for metric, due in (("first_response", DUE), ("resolution", DUE + timedelta(days=2))):
        await pages.project(
            SlaClockStarted(
                complaint_id=accepted["id"],
                clock_id=f"clock-{metric}",
                metric=metric,
                target_seconds=3600,
                started_at=DUE - timedelta(hours=1),
                due_at=due,
                calendar_id="cn-mainland",
                policy_id="default-P3",
                priority="P3",
            ),
            source="sla-watch",
        )
    page = await pages.client.get(f"/c/{accepted['id']}?lang=en")
    assert "Mon 14 Dec 2026, 07:30" in page.text  # Berlin, from the complaint
    assert "Wed 16 Dec 2026, 07:30" in page.text
    assert "Europe/Berlin, UTC+01:00" in page.text
    plain = await pages.post()  # no zone of its own: the organisation's
    await pages.project(
        SlaClockStarted(
            complaint_id=plain["id"],
            clock_id="clock-plain",
            metric="first_response",
            target_seconds=3600,
            started_at=DUE - timedelta(hours=1),
            due_at=DUE,
            calendar_id="cn-mainland",
            policy_id="default-P3",
            priority="P3",
        ),
        source="sla-watch",
    )
    page = await pages.open(plain)
    assert "2026年12月14日 周一 14:30" in text_of(page.text, "promise-first_response")


async def test_the_conversation_shows_the_agents_words_signed_and_the_question(
    pages: Pages,
) -> None:
    accepted = await pages.post()
    now = datetime.now(UTC)
    await pages.project(
        ComplaintAssigned(
            complaint_id=accepted["id"], team="billing", assignee="agent-7", actor="routing"
        ),
        source="routing",
    )
    await pages.project(
        ComplaintFirstResponseSent(
            complaint_id=accepted["id"],
            actor="agent-7",
            responded_at=now,
            message="<b>退款已重新提交</b>",
            agent_name="李娜",
        ),
        source="routing",
    )
    await pages.project(
        ComplaintAwaitingCustomer(
            complaint_id=accepted["id"], actor="agent-7", reason="请提供退款单号", since=now
        ),
        source="routing",
    )
    page = await pages.open(accepted)
    assert text_of(page.text, "status") == "待您回复"
    assert "请提供退款单号" in page.text.split('id="latest-reply"')[1].split("</div>")[0]
    assert "&lt;b&gt;退款已重新提交&lt;/b&gt;" in page.text  # text, never markup
    assert "— 李娜" in page.text
    assert "— 客服" in page.text  # the question had no name: the neutral signature
    assert "agent-7" not in page.text
    english = await pages.client.get(f"/c/{accepted['id']}?lang=en")
    assert "— Customer Service" in english.text
    assert "— 李娜" in english.text


async def test_a_message_is_sent_once_and_confirmed(pages: Pages) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    action = f"/c/{accepted['id']}/messages"
    fields = {"message": "退款单号 RF-7781 <script>alert(1)</script>"}
    sent = await pages.submit(page, action, fields)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/c/{accepted['id']}?done=message#conversation"
    again = await pages.submit(page, action, fields)  # a double tap: the same form again
    assert again.status_code == 303
    assert await pages.count(CustomerMessage) == 1
    shown = await pages.client.get(sent.headers["location"])
    assert "留言已发送" in text_of(shown.text, "notice")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "<script>alert" not in shown.text
    # The old form sent again with other words: nothing stored, the customer is told.
    other = await pages.submit(page, action, {"message": "Something else"})
    assert other.status_code == 422
    assert "这个表单已经发送过" in other.text
    assert "Something else" in other.text
    assert await pages.count(CustomerMessage) == 1


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("", "请输入留言内容"),
        ("   ", "请输入留言内容"),
        ("长" * 10_001, "最多 10000 字，您输入了 10001 字"),
        ("nul\x00byte", "空字符（NUL）"),
        ("bell\x07ring", "控制字符"),
    ],
)
async def test_bad_messages_are_refused_on_the_page_with_nothing_stored(
    pages: Pages, message: str, words: str
) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    refused = await pages.submit(page, f"/c/{accepted['id']}/messages", {"message": message})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert words in html.unescape(refused.text)
    assert 'aria-invalid="true"' in refused.text
    assert "\x00" not in refused.text
    assert await pages.count(CustomerMessage) == 0


async def test_a_message_of_exactly_the_limit_is_accepted(pages: Pages) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    sent = await pages.submit(page, f"/c/{accepted['id']}/messages", {"message": "长" * 10_000})
    assert sent.status_code == 303
    assert await pages.count(CustomerMessage) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"csrf_token": "forged", "message": "hi"},
        {"csrf_token": "", "message": "hi"},
        {"submission": "<tampered>", "message": "hi"},
    ],
)
async def test_a_forged_or_tampered_form_changes_nothing(
    pages: Pages, fields: dict[str, str]
) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    refused = await pages.submit(page, f"/c/{accepted['id']}/messages", fields)
    assert refused.status_code == 403
    assert "页面已过期" in refused.text
    assert await pages.count(CustomerMessage) == 0


async def test_a_new_link_replaces_the_old_one_and_is_shown_once(pages: Pages) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    action = f"/c/{accepted['id']}/link"
    fields = hidden_fields(page.text, action)
    old_cookies = httpx.Cookies(pages.client.cookies)
    rotated = await pages.submit(page, action, {})
    assert rotated.status_code == 303
    assert rotated.headers["location"] == f"/c/{accepted['id']}?done=new_link"
    # A double tap: the same form, sent with the old cookie before the answer came back,
    # gets the same new link instead of a third one.
    async with pages.browser(old_cookies) as twin:
        again = await twin.post(action, data=fields)
    assert again.status_code == 303
    assert again.cookies["complaint_link"] == rotated.cookies["complaint_link"]
    # The old page's form after the rotation: expired, nothing rotates.
    expired = await pages.submit(page, action, {})
    assert expired.status_code == 403
    shown = await pages.client.get(rotated.headers["location"])
    new_link = text_of(shown.text, "new-link")
    assert new_link.startswith(f"{BASE}/t/")
    assert new_link != accepted["tracking_url"]
    assert "旧链接已失效" in shown.text
    plain = await pages.client.get(f"/c/{accepted['id']}")
    assert new_link not in plain.text  # only on the confirmation
    old = await pages.client.get(f"/t/{accepted['tracking_token']}")
    assert old.status_code == 404
    assert (await pages.client.get(new_link.removeprefix(BASE))).status_code == 303
    async with pages.database.sessions() as session:
        row = await session.get(Complaint, accepted["id"])
        assert row is not None
        assert pages.app.state.dependencies.secrets.decrypt(row.tracking_token_enc) == (
            new_link.removeprefix(f"{BASE}/t/")
        )


async def test_withdrawing_asks_first_then_withdraws_once(pages: Pages) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    confirm = await pages.client.get(f"/c/{accepted['id']}/withdraw")
    assert confirm.status_code == 200
    assert "确认撤回" in confirm.text
    action = f"/c/{accepted['id']}/withdraw"
    too_long = await pages.submit(confirm, action, {"reason": "x" * 2001})
    assert too_long.status_code == 422
    assert "原因太长了" in too_long.text
    done = await pages.submit(confirm, action, {"reason": "已经解决了"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/c/{accepted['id']}?done=withdrawn"
    again = await pages.submit(confirm, action, {"reason": "已经解决了"})
    assert again.headers["location"] == f"/c/{accepted['id']}?done=withdrawn"
    shown = await pages.client.get(done.headers["location"])
    assert text_of(shown.text, "status") == "已撤回"
    assert "投诉已撤回" in shown.text
    assert 'action="/c/' + accepted["id"] + '/messages"' not in shown.text  # no form now
    # The page drawn before the withdrawal posts a message: refused with its words.
    late = await pages.submit(page, f"/c/{accepted['id']}/messages", {"message": "hello?"})
    assert late.status_code == 409
    assert "此投诉已撤回" in late.text
    assert await pages.count(CustomerMessage) == 0


async def test_a_closed_complaint_reopens_within_the_window_and_opens_a_new_one_after(
    pages: Pages,
) -> None:
    accepted = await pages.post()
    closed_at = datetime.now(UTC) - timedelta(days=10)
    await pages.project(
        _closed(accepted["id"], closed_at),
        source="routing",
    )
    page = await pages.open(accepted)
    assert text_of(page.text, "status") == "已关闭"
    until = closed_at + timedelta(days=30)
    assert f"请在 {until.astimezone().year}年" in text_of(page.text, "next-step")
    assert "发送后，投诉将重新打开处理" in page.text

    old = await pages.post()
    long_ago = datetime.now(UTC) - timedelta(days=45)
    await pages.project(
        _closed(old["id"], long_ago),
        source="routing",
    )
    page = await pages.open(old)
    assert "现在留言将为您创建一个新的投诉" in text_of(page.text, "next-step")
    opened = await pages.submit(page, f"/c/{old['id']}/messages", {"message": "又坏了"})
    assert opened.status_code == 303
    new_page = await pages.client.get(opened.headers["location"])
    assert new_page.status_code == 200  # the cookie of the new complaint's page was set
    assert old["reference"] in text_of(new_page.text, "notice")
    new_link = text_of(new_page.text, "new-link")
    assert (await pages.client.get(new_link.removeprefix(BASE))).status_code == 303
    assert text_of(new_page.text, "reference") != old["reference"]


async def test_the_language_switch_and_the_customers_language(pages: Pages) -> None:
    accepted = await pages.post(
        customer={"customer_id": "CRM-10", "email": "a@example.com", "language": "en"}
    )
    page = await pages.open(accepted)
    assert '<html lang="en">' in page.text
    assert text_of(page.text, "status") == "Received"
    switched = await pages.client.get(f"/c/{accepted['id']}?lang=zh-CN")
    assert '<html lang="zh-CN">' in switched.text
    assert "complaint_lang=zh-CN" in switched.headers["set-cookie"]
    kept = await pages.client.get(f"/c/{accepted['id']}")
    assert '<html lang="zh-CN">' in kept.text
    assert 'href="/c/' + accepted["id"] + '?lang=en"' in kept.text


async def test_rate_limits_answer_429_with_their_headers(make_pages: MakePages) -> None:
    pages = await make_pages(
        tracking_rate_limits={"view.link": "2/minute", "open.client": "3/minute"}
    )
    accepted = await pages.post()
    page = await pages.open(accepted)  # open 1, view 1
    assert page.headers["ratelimit-limit"] == "2"
    assert page.headers["ratelimit-remaining"] == "1"
    assert (await pages.client.get(f"/c/{accepted['id']}")).status_code == 200
    limited = await pages.client.get(f"/c/{accepted['id']}")
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert "操作太频繁" in limited.text
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["ratelimit-remaining"] == "0"
    for _ in range(2):
        await pages.client.get("/t/guess", headers={"Accept": "text/html"})
    guessing = await pages.client.get("/t/guess-again", headers={"Accept": "application/json"})
    assert guessing.status_code == 429
    assert guessing.headers["content-type"] == "application/problem+json"
    assert "retry-after" in guessing.headers


async def test_pages_carry_the_security_headers_and_are_never_cached(pages: Pages) -> None:
    accepted = await pages.post()
    page = await pages.open(accepted)
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/assets/customer.js?v=' in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text  # nothing loaded from elsewhere
    css = await pages.client.get(hidden_css(page.text))
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"


def _closed(complaint_id: str, closed_at: datetime) -> ComplaintClosed:
    return ComplaintClosed(
        complaint_id=complaint_id,
        reason="confirmed",
        evidence_event_id="ev-feedback",
        actor="customer",
        closed_at=closed_at,
    )


def hidden_css(page: str) -> str:
    start = page.index('href="/assets/customer.css?v=') + len('href="')
    return page[start : page.index('"', start)]


@pytest.mark.parametrize(("zone", "status"), [("Asia/Shanghai", 201), ("Mars/Olympus", 422)])
async def test_a_complaint_may_name_the_customers_time_zone(
    pages: Pages, zone: str, status: int
) -> None:
    answer = await pages.client.post(
        "/v1/complaints",
        json={
            "channel": "web",
            "customer": {"customer_id": "z"},
            "subject": "s",
            "description": "d",
            "timezone": zone,
        },
        headers={"X-API-Key": pages.key},
    )
    assert answer.status_code == status, answer.text
    if status == 201:
        async with pages.database.sessions() as session:
            row = await session.get(Complaint, answer.json()["id"])
            assert row is not None
            assert row.timezone == zone


def test_the_logs_never_show_a_link_secret(pages: Pages) -> None:
    access = logging.getLogger("uvicorn.access")
    # intake's own filter (feedback's app, built by other tests in this process, adds its own)
    [redacting] = [
        f
        for f in access.filters
        if isinstance(f, RedactingFilter) and f.redact is redact_link_paths
    ]
    record = access.makeRecord(
        "uvicorn.access",
        20,
        "x",
        1,
        '%s - "%s %s HTTP/1.1" %d',
        ("1.2.3.4", "GET", "/t/abc", 303),
        None,
        None,
    )
    assert redacting.filter(record)
    assert record.getMessage() == '1.2.3.4 - "GET /t/[redacted] HTTP/1.1" 303'
    assert any(
        isinstance(f, RedactingFilter) for h in logging.getLogger().handlers for f in h.filters
    )
    assert hidden_fields  # the helper is shared with the other tests
