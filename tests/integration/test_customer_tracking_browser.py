"""The customer's tracking page in a real browser on a phone (Debian's chromium driven by
Playwright at 390×844) against the whole platform: a complaint is posted through intake,
the acknowledgement e-mail arrives at the platform's SMTP sink, its link opens the page
(the secret goes into a cookie and leaves the address bar), the page shows the reference
and the first-response time sla-watch promised, the customer writes through the form, the
agent answers through routing's API, and the reply is on the page after a reload, in
zh-CN and, after the switch, in en. Screenshots go to ``docs/screenshots/``.

Chromium comes from the PATH (``make browser`` installs Debian's package); Playwright
never downloads a browser. The test skips, saying so, where chromium is not installed.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import wait_for

from conftest import Platform, agent_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# CUSTOMER_SCREENSHOTS: another directory for a trial run (the docs' pictures stay as they are)
SCREENSHOTS = Path(os.environ.get("CUSTOMER_SCREENSHOTS") or ROOT / "docs" / "screenshots")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
WAIT_S = 60.0  # triage, the SLA clock and its projection take a few seconds; a loaded machine more
CUSTOMER_MESSAGE = "订单号 ORD-7781，退款仍未到账。<script>alert(1)</script>"
AGENT_REPLY = "您好，退款已重新提交，预计 3 个工作日内到账。"
LINK = re.compile(r"https?://\S+/t/[A-Za-z0-9_-]+")


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def _post_complaint(platform: Platform, email: str) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {
            "external_ref": f"tracking-{uuid.uuid4().hex[:12]}",
            "name": "王芳",
            "email": email,
            "language": "zh-CN",
            "preferred_channel": "email",
        },
        "subject": "退货退款一直没有到账",
        "description": "我三周前退回了电水壶，退款到现在还没有到账，请帮忙查一下。",
        "order_ref": f"ORD-TRACK-{uuid.uuid4().hex[:8]}",
        "timezone": "Asia/Shanghai",
    }
    with platform.client() as intake:
        response = intake.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _link_in_acknowledgement(platform: Platform, email: str, reference: str) -> str:
    def found() -> str | None:
        for mail in platform.mail.to(email):
            if reference in mail.subject and (match := LINK.search(mail.body)):
                return match.group(0)
        return None

    link: str = wait_for(found, timeout_s=WAIT_S, what=f"the acknowledgement to {email}")
    return link


def _team_of(platform: Platform, complaint_id: str) -> str:
    def assigned() -> str | None:
        with platform.client() as intake:
            view = intake.get(f"/v1/complaints/{complaint_id}").json()
        team = view.get("team")
        return str(team) if view.get("status") == "assigned" and team else None

    team: str = wait_for(assigned, timeout_s=WAIT_S, what=f"{complaint_id} assigned")
    return team


async def _reload_until(page: Any, selector: str, text: str) -> None:
    """Reload (the page has no live updates) until ``selector`` shows ``text``."""
    deadline = time.monotonic() + WAIT_S
    while True:
        locator = page.locator(selector)
        if await locator.count() and text in await locator.first.inner_text():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {text!r}")
        await asyncio.sleep(1)
        await page.reload()


async def _shot(page: Any, name: str) -> None:
    """A 390×844 picture of the top of the page (Playwright creates the directory)."""
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOTS / name), full_page=False)


async def test_a_customer_follows_their_complaint_on_a_phone(
    platform: Platform, chromium: Any
) -> None:
    email = f"tracking.{uuid.uuid4().hex[:8]}@example.com"
    accepted = _post_complaint(platform, email)
    complaint_id, reference = accepted["id"], accepted["reference"]
    link = _link_in_acknowledgement(platform, email, reference)
    assert link == accepted["tracking_url"]
    assert "?token=" not in link

    context = await chromium.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    page = await context.new_page()
    await page.goto(link)
    # The secret left the address bar: the page lives at /c/{id}, the link in a cookie.
    assert page.url == f"{platform.intake.url}/c/{complaint_id}"
    [cookie] = [c for c in await context.cookies() if c["name"] == "complaint_link"]
    assert (cookie["httpOnly"], cookie["path"]) == (True, f"/c/{complaint_id}")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    assert (await page.inner_text("#reference")).strip() == reference

    # The first-response time sla-watch promised, once triage started the clock.
    await _reload_until(page, "#promise-first_response", "前")
    promised = await page.inner_text("#promise-first_response")
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 周. \d{2}:\d{2} 前", promised), promised
    assert "时间按 Asia/Shanghai" in await page.inner_text("body")
    # Phone-sized: nothing wider than the screen, the main button a comfortable target.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    send = page.locator(".message-form button[type=submit]")
    for target in (send, page.locator(".language-switch a").first):
        box = await target.bounding_box()
        assert box is not None
        assert box["height"] >= 44

    # The customer writes through the form (Post/Redirect/Get: a confirmation).
    await page.fill("#message", CUSTOMER_MESSAGE)
    await send.click()
    await page.wait_for_selector("#notice:has-text('留言已发送')")
    assert "done=message" in page.url
    mine = page.locator(".entry-customer .bubble").first
    assert await mine.inner_text() == CUSTOMER_MESSAGE  # shown as text, never run

    # The agent answers through routing's API; the customer reloads and reads it.
    team = _team_of(platform, complaint_id)
    with platform.staff_client("routing", agent_id(team), ["agent"]) as agent:
        answered = agent.post(
            f"/v1/cases/{complaint_id}/first-response", json={"message": AGENT_REPLY}
        )
    assert answered.status_code == 200, answered.text
    await page.goto(f"{platform.intake.url}/c/{complaint_id}")
    await _reload_until(page, "#latest-reply", AGENT_REPLY)  # first thing on the page
    assert AGENT_REPLY in await page.inner_text(".entry-agent .bubble")  # and in the timeline
    assert (await page.inner_text("#status")).strip() == "处理中"
    assert "已于" in await page.inner_text("#promise-first_response")  # the promise kept
    await _shot(page, "customer-tracking-zh-CN.png")

    # The same page in English, through the switch.
    await page.click(".language-switch a[hreflang='en']")
    await page.wait_for_selector("html[lang='en']")
    assert (await page.inner_text("#status")).strip() == "Being handled"
    assert "Our latest reply" in await page.inner_text("#latest-reply")
    assert "Our reply" in await page.inner_text("#conversation")
    await _shot(page, "customer-tracking-en.png")
    await context.close()

    # The link's secret never reached a log line of intake.
    token = accepted["tracking_token"]
    assert token not in platform.intake.log_path.read_text(encoding="utf-8", errors="replace")


def test_the_tracking_link_answers_json_to_a_front_end(platform: Platform) -> None:
    """Content negotiation on the link, without a browser."""
    email = f"tracking.json.{uuid.uuid4().hex[:8]}@example.com"
    accepted = _post_complaint(platform, email)
    with httpx.Client(base_url=platform.intake.url, timeout=10) as client:
        view = client.get(
            f"/t/{accepted['tracking_token']}", headers={"Accept": "application/json"}
        )
        assert view.status_code == 200
        assert view.json()["reference"] == accepted["reference"]
        page = client.get(f"/t/{accepted['tracking_token']}", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == f"/c/{accepted['id']}"
        unknown = client.get("/t/not-a-real-token", headers={"Accept": "text/html"})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("text/html")
