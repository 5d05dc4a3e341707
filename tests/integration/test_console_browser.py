"""The console in a real browser (Debian's chromium, driven by Playwright) against the whole
platform: the billing agent signs in, sees a newly posted complaint appear in the queue
without reloading, opens it, reads its description, answers, resolves it with the root
cause; the team lead, on the same case page, is told the agent is writing; the lead's
board changes as a complaint arrives. Screenshots at 1280×800 in zh-CN and en go to
``docs/screenshots/``.

Runs on the integration platform (``conftest.py``'s ``platform``, whose console process has
``CONSOLE_DEV_SIGN_IN=true`` and ``CONSOLE_COOKIE_SECURE=false``) with ``chromium`` on the
PATH (``make test`` installs Debian's package when it is missing and it runs as root); it
skips, saying so, only where chromium is not installed. Playwright never downloads a browser here
(no ``playwright install``): it launches the system's chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# CONSOLE_SCREENSHOTS: another directory for a trial run (the docs' pictures stay as they are)
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or ROOT / "docs" / "screenshots")
SAMPLES = ROOT / "tests" / "fixtures" / "complaints.jsonl"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 30_000  # a new case reaches the queue in about 2 s; generous for a loaded machine


@pytest.fixture(scope="module")
def console_platform(platform: Any) -> Any:
    """The integration suite's platform, with its console process."""
    assert "console" in platform.services, "the integration platform starts a console"
    return platform


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


def _billing_complaint() -> dict[str, Any]:
    """A refund complaint (routing gives it to the billing team) from a new customer each
    time, so it is never taken for a duplicate."""
    sample = next(
        json.loads(line)
        for line in SAMPLES.read_text("utf-8").splitlines()
        if line.strip() and json.loads(line)["expected"]["category"] == "billing_refund"
    )
    body = {k: v for k, v in sample.items() if k != "expected"}
    body["customer"] = {
        "external_ref": f"browser-{uuid.uuid4().hex[:12]}",
        "name": "浏览器测试",
        # Random digits: other tests' customers have numbered phones, and an open complaint
        # with the same phone would make this one its duplicate (no team, off the board).
        "phone": f"+86139{uuid.uuid4().int % 10**8:08d}",
        "tier": "standard",
        "preferred_channel": "sms",
        "language": "zh-CN",
    }
    body["order_ref"] = f"ORD-BROWSER-{uuid.uuid4().hex[:8]}"
    return body


def _post_complaint(platform: Any) -> dict[str, Any]:
    with platform.client() as intake:
        response = intake.post("/v1/complaints", json=_billing_complaint())
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def _signed_in(chromium: Any, console: str, token: str, language: str = "zh-CN") -> Any:
    context = await chromium.new_context(
        viewport=VIEWPORT, locale=language, timezone_id="Asia/Shanghai"
    )
    page = await context.new_page()
    await page.goto(f"{console}/signin")
    await page.fill("#token", token)
    await page.click("form[action='/signin/token'] button[type=submit]")
    await page.wait_for_url(f"{console}/")
    return page


async def _switch_language(page: Any, language: str) -> None:
    await page.click(f".language-switch button[value='{language}']")
    await page.wait_for_selector(f"html[lang='{language}']")


async def _shot(page: Any, name: str) -> None:
    """A 1280×800 picture of the page (Playwright creates the directory)."""
    await page.screenshot(path=str(SCREENSHOTS / name), full_page=False)


async def test_an_agent_works_a_new_case_and_the_lead_sees_the_board_change(
    console_platform: Any, chromium: Any
) -> None:
    platform = console_platform
    console = platform.services["console"].url
    agent_token = platform.token("agent-billing", ["agent"], "billing", audience="console")
    lead_token = platform.token("lead-billing", ["lead"], "billing", audience="console")

    # The agent's queue is open; a complaint arrives and appears without a reload.
    page = await _signed_in(chromium, console, agent_token)
    await page.wait_for_selector("#case-list")
    await page.evaluate("window.__notReloaded = true")
    accepted = _post_complaint(platform)
    reference = accepted["reference"]
    row = page.locator("tr.case-row", has_text=reference)
    await row.wait_for(timeout=WAIT_MS)
    assert await page.evaluate("window.__notReloaded === true"), "the queue was reloaded"
    await _shot(page, "console-queue-zh-CN.png")

    # Open it (keyboard: the row's link, Enter) and read the description.
    await row.locator("a.reference").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{console}/cases/{accepted['id']}")
    description = page.locator(".entry-customer .entry-text").first
    assert "退款" in (await description.inner_text())
    await _shot(page, "console-case-zh-CN.png")

    # The lead opens the same case: while the agent types, the lead's page says so (polled
    # from the console's database); the agent's own page does not.
    lead_page = await _signed_in(chromium, console, lead_token)
    await lead_page.goto(f"{console}/cases/{accepted['id']}")
    await page.click("#reply-message")
    await page.keyboard.type("您好")
    writer = lead_page.locator(".presence-writer", has_text="agent-billing")
    await writer.wait_for(timeout=WAIT_MS)
    assert await page.locator(".presence-writer").count() == 0
    await page.fill("#reply-message", "")

    # The same pages in English.
    await _switch_language(page, "en")
    assert await page.locator("h2#conversation-title").inner_text() == "Conversation"
    await _shot(page, "console-case-en.png")
    await page.goto(f"{console}/")
    await page.locator("tr.case-row", has_text=reference).wait_for(timeout=WAIT_MS)
    await _shot(page, "console-queue-en.png")
    await _switch_language(page, "zh-CN")
    await page.goto(f"{console}/cases/{accepted['id']}")

    # Answer: the first response, then a reply (Ctrl+Enter sends).
    await page.fill("#reply-message", "您好，我们已收到您的退款问题，正在与财务核实。")
    await page.click("#panel-reply button[type=submit]")
    await page.wait_for_selector(".notice:has-text('首次响应已发送')", timeout=WAIT_MS)
    await page.fill("#reply-message", "退款已重新提交，预计 3 个工作日内到账。")
    await page.press("#reply-message", "Control+Enter")
    await page.wait_for_selector(".notice:has-text('回复已发送')", timeout=WAIT_MS)

    # Resolve without a root cause is refused in place; with it, the case is resolved.
    await page.click("#resolve summary")
    await page.fill("#resolve-summary", "已重新提交退款并确认到账时间。")
    await page.select_option("#resolve-type", "refund")
    await page.eval_on_selector("#resolve-root-cause", "e => e.removeAttribute('required')")
    await page.click("#resolve form button[type=submit]")
    await page.wait_for_selector("#resolve-root_cause-error", timeout=WAIT_MS)
    await page.fill("#resolve-root-cause", "退款批次因银行接口超时未发出。")
    await page.click("#resolve form button[type=submit]")
    await page.wait_for_selector(".notice:has-text('工单已解决')", timeout=WAIT_MS)
    assert "已解决" in await page.locator(".case-head .status").inner_text()

    # The lead's board changes as a new complaint of the team arrives (an agent's load
    # grows, or the unassigned queue does) without a reload.
    board = lead_page
    await board.goto(f"{console}/board")
    before = await board.locator("#board-panels").inner_text()
    await board.evaluate("window.__notReloaded = true")
    _post_complaint(platform)
    await board.wait_for_function(
        "(before) => { const e = document.querySelector('#board-panels');"
        " return e && e.innerText !== before; }",
        arg=before,
        timeout=WAIT_MS,
    )
    assert await board.evaluate("window.__notReloaded === true"), "the board was reloaded"
    await _shot(board, "console-board-zh-CN.png")


def test_the_console_answers_through_the_platform(console_platform: Any) -> None:
    """Without a browser: the console process is up and pages need a session."""
    console = console_platform.services["console"].url
    with httpx.Client(base_url=console, timeout=10) as client:
        assert client.get("/livez").status_code == 200
        assert client.get("/", follow_redirects=False).status_code == 303
        assert 'name="token"' in client.get("/signin").text
