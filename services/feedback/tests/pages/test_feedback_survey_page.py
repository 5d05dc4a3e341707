"""The survey page behind the confirmation link, in-process: the link's secret goes into a
cookie and leaves the address, the form takes one answer (Post/Redirect/Get, a repeat
changes nothing), a refused form stores nothing, used, expired, closed, tampered and
forged links are friendly pages in the customer's language, CSRF, rate limits, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from complaint_contracts import topics
from complaint_contracts.events import (
    ComplaintConfirmed,
    ComplaintReopened,
    ComplaintResolved,
)
from complaint_contracts.examples import example_for
from feedback.db import ConfirmationRequest
from feedback.domain.links import issue_link_token, redact_link_paths

from .conftest import BASE, LINK_SECRET, MakeSite, Site, text_of


def _rid(link_page: httpx.Response) -> str:
    return link_page.url.path.rsplit("/", 1)[1]


async def _answers(site: Site) -> list[object]:
    return [e for e in await site.events() if isinstance(e, ComplaintConfirmed | ComplaintReopened)]


async def _request(site: Site, request_id: str) -> ConfirmationRequest:
    async with site.database.sessions() as session:
        found = await session.get(ConfirmationRequest, request_id)
    assert found is not None
    return found


async def test_the_link_moves_its_secret_into_a_scoped_cookie(site: Site) -> None:
    _, link = await site.survey_link()
    assert link.startswith(f"{BASE}/s/")
    token = link.rsplit("/", 1)[1]
    opened = await site.client.get(link.removeprefix(BASE))
    assert opened.status_code == 303
    location = opened.headers["location"]
    assert location.startswith("/survey/")
    assert token not in location
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"complaint_link={token};")
    for attribute in ("HttpOnly", f"Path={location}", "SameSite=lax", "Secure"):
        assert attribute in cookie, cookie
    assert opened.headers["cache-control"] == "no-store"


async def test_a_front_end_asking_for_json_gets_the_survey(site: Site) -> None:
    _, link = await site.survey_link(language="en")
    answer = await site.client.get(link.removeprefix(BASE), headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["language"] == "en"
    assert [q["id"] for q in body["questions"]] == ["solved", "csat", "comment"]
    assert body["answered"] is False
    assert "set-cookie" not in answer.headers


async def test_the_form_asks_in_the_customers_language(site: Site) -> None:
    _, link = await site.survey_link(language="zh-CN")
    page = await site.open(link)
    assert '<html lang="zh-CN">' in page.text
    assert "您的问题解决了吗？" in page.text
    assert page.text.count('type="radio" name="solved"') == 2
    assert page.text.count('type="radio" name="csat"') == 5
    assert 'name="comment"' in page.text
    assert 'name="csrf_token"' in page.text
    assert "Asia/Shanghai" in text_of(page.text, "expires")
    english = await site.client.get(f"{page.url.path}?lang=en")
    assert '<html lang="en">' in english.text
    assert "Is your problem solved?" in english.text
    kept = await site.client.get(page.url.path)  # the choice is remembered on the page
    assert '<html lang="en">' in kept.text
    _, en_link = await site.survey_link(language="en")
    stranger = site.browser(**{"Accept-Language": "zh-CN,zh;q=0.9"})
    async with stranger:
        english_customer = await site.open(en_link, client=stranger)
    assert '<html lang="en">' in english_customer.text  # the request's language wins


async def test_a_confirmation_closes_the_complaint_once(site: Site) -> None:
    complaint_id, link = await site.survey_link()
    page = await site.open(link)
    action = page.url.path
    sent = await site.submit(page, action, {"solved": "yes", "csat": "5", "comment": "谢谢"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{action}?done=answered"
    thanks = await site.client.get(sent.headers["location"])
    assert thanks.status_code == 200
    assert "感谢您的反馈" in thanks.text
    assert text_of(thanks.text, "outcome") == "您的投诉已关闭。感谢您的确认！"
    # A double submit (the same form again) changes nothing and shows the same confirmation.
    again = await site.submit(page, action, {"solved": "no", "csat": "1"})
    assert again.status_code == 303
    assert again.headers["location"] == f"{action}?done=answered"
    [answer] = await _answers(site)
    assert isinstance(answer, ComplaintConfirmed)
    assert (answer.complaint_id, answer.csat, answer.comment) == (complaint_id, 5, "谢谢")
    stored = await _request(site, _rid(page))
    assert (stored.status, stored.solved, stored.csat) == ("answered", True, 5)
    # The used link still opens: it says it was answered, and what that did.
    reopened_page = await site.open(link)
    assert "您已经回答过了" in reopened_page.text
    assert "我们已于" in text_of(reopened_page.text, "answered-at")
    assert 'name="solved"' not in reopened_page.text


async def test_not_solved_or_a_low_csat_reopens(site: Site) -> None:
    for fields, reason in (
        ({"solved": "no", "csat": "4"}, "not_solved"),
        ({"solved": "yes", "csat": "2"}, "low_csat"),
    ):
        _, link = await site.survey_link(language="en")
        page = await site.open(link)
        sent = await site.submit(page, page.url.path, fields)
        thanks = await site.client.get(sent.headers["location"])
        assert "Thank you for your answer" in thanks.text
        assert text_of(thanks.text, "outcome").startswith("We reopened your complaint")
        reopened = [e for e in await _answers(site) if isinstance(e, ComplaintReopened)]
        assert reopened[-1].reason == reason


async def test_a_refused_form_stores_nothing_and_says_why(site: Site) -> None:
    _, link = await site.survey_link()
    page = await site.open(link)
    action = page.url.path
    for fields, message in (
        ({"solved": "yes", "csat": "7"}, "满意度只能是 1 到 5 分"),
        ({"solved": "yes", "csat": "0"}, "满意度只能是 1 到 5 分"),
        ({"solved": "maybe", "csat": "3"}, "选项无效"),
        ({"csat": "3"}, "请选择问题是否已经解决"),
        ({"solved": "yes"}, "请选择 1 到 5 分的满意度"),
        ({"solved": "yes", "csat": "4", "comment": "长" * 2001}, "最多 2000 字"),
        ({"solved": "yes", "csat": "4", "comment": "a\x00b"}, "空字符"),
    ):
        refused = await site.submit(page, action, fields)
        assert refused.status_code == 422, fields
        assert refused.headers["content-type"].startswith("text/html")
        assert "没有保存任何内容" in refused.text
        assert message in refused.text, fields
    markup = await site.submit(page, action, {"solved": "no", "comment": "<script>x</script>"})
    assert "&lt;script&gt;x&lt;/script&gt;" in markup.text
    assert 'value="no" required checked' in markup.text  # the choice is kept
    assert await _answers(site) == []
    assert (await _request(site, _rid(page))).status == "pending"


async def test_a_form_without_the_pages_token_changes_nothing(site: Site) -> None:
    _, link = await site.survey_link()
    page = await site.open(link)
    for data in ({}, {"csrf_token": "forged"}):
        refused = await site.client.post(page.url.path, data={**data, "solved": "yes", "csat": "5"})
        assert refused.status_code == 403
        assert "页面已过期" in refused.text
    assert await _answers(site) == []


async def test_tampered_forged_and_foreign_links_are_a_friendly_404(site: Site) -> None:
    _, link = await site.survey_link()
    path = link.removeprefix(BASE)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for bad in (tampered, "/s/not-a-token", "/s/" + "x" * 2000):
        answer = await site.client.get(bad)
        assert answer.status_code == 404, bad
        assert answer.headers["content-type"].startswith("text/html")
        assert "链接无效或已失效" in answer.text
    page = await site.open(link)
    # A tampered cookie, or a cookie of one survey on another's page: not found either.
    async with site.browser() as other:
        other.cookies.set("complaint_link", tampered.rsplit("/", 1)[1])
        assert (await other.get(page.url.path)).status_code == 404
    _, second = await site.survey_link()
    second_page = await site.open(second)
    async with site.browser() as mixed:
        mixed.cookies.set("complaint_link", link.rsplit("/", 1)[1])
        assert (await mixed.get(second_page.url.path)).status_code == 404
    async with site.browser() as stranger:  # no cookie at all
        signed_out = await stranger.get(page.url.path)
        assert signed_out.status_code == 403
        assert "请从链接打开此页面" in signed_out.text


async def test_an_expired_link_is_a_friendly_page_in_the_customers_language(site: Site) -> None:
    complaint_id, link = await site.survey_link(language="en")
    page = await site.open(link)
    expired = issue_link_token(
        secret=LINK_SECRET,
        request_id=_rid(page),
        complaint_id=complaint_id,
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
        language="en",
    )
    answer = await site.client.get(f"/s/{expired}")
    assert answer.status_code == 410
    assert '<html lang="en">' in answer.text
    assert "This survey has expired" in answer.text
    async with site.browser() as old_tab:
        old_tab.cookies.set("complaint_link", expired)
        assert (await old_tab.get(page.url.path)).status_code == 410
        refused = await old_tab.post(page.url.path, data={"solved": "yes", "csat": "5"})
        assert refused.status_code == 410
    assert await _answers(site) == []


async def test_a_survey_replaced_by_a_newer_one_is_closed(site: Site) -> None:
    complaint_id, link = await site.survey_link()
    page = await site.open(link)
    again = example_for(ComplaintResolved).model_copy(update={"complaint_id": complaint_id})
    await site.consume(again, topic=topics.ROUTING)  # a second resolution: a new request
    closed = await site.client.get(page.url.path)
    assert closed.status_code == 410
    assert "此调查已结束" in closed.text
    refused = await site.submit(page, page.url.path, {"solved": "yes", "csat": "5"})
    assert refused.status_code == 410
    assert await _answers(site) == []


async def test_rate_limits_answer_429_pages(make_site: MakeSite) -> None:
    site = await make_site(feedback_page_rate_limits={"view.link": "2/minute"})
    _, link = await site.survey_link()
    page = await site.open(link)  # view 1
    assert page.headers["ratelimit-limit"] == "2"
    assert (await site.client.get(page.url.path)).status_code == 200
    limited = await site.client.get(page.url.path)
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert "操作太频繁" in limited.text
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_pages_carry_security_headers_and_the_logs_no_token(site: Site) -> None:
    _, link = await site.survey_link()
    page = await site.open(link)
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert '<link rel="stylesheet" href="/assets/customer.css?v=' in page.text
    css = await site.client.get("/assets/customer.css")
    assert css.status_code == 200
    assert ".scale-11" in css.text
    token = link.rsplit("/", 1)[1]
    assert token not in redact_link_paths(f"GET /s/{token} 303 and /v1/surveys/{token}")
