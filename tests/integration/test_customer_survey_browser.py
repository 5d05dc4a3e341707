"""The customer's survey and NPS pages in a real browser on a phone (Debian's chromium
driven by Playwright at 390×844) against the whole platform: a complaint is resolved
through routing's API, the survey e-mail arrives at the platform's SMTP sink, its link
opens the page (the secret goes into a cookie and leaves the address bar), the customer
answers with taps and sees the confirmation, and routing closes the case — in zh-CN and
in en. An NPS round over the test's seconds mails the invitation, whose link opens the
0–10 page. Screenshots go to ``docs/screenshots/``.

Chromium comes from the PATH (``make browser`` installs Debian's package); Playwright
never downloads a browser. The test skips, saying so, where chromium is not installed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from survey_flows import (
    NPS_LINK,
    SURVEY_LINK,
    link_in_mail,
    open_nps_round,
    post_complaint,
    resolve,
    wait_case_status,
)

from conftest import Platform

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
WORDS = {
    "zh-CN": {
        "solved": "已解决",
        "thanks": "感谢您的反馈",
        "closed": "您的投诉已关闭。感谢您的确认！",
        "switch": "English",
    },
    "en": {
        "solved": "Yes, it is solved",
        "thanks": "Thank you for your answer",
        "closed": "Your complaint is closed. Thank you for confirming!",
        "switch": "中文",
    },
}


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


async def _phone(chromium: Any, language: str) -> Any:
    return await chromium.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=language,
        timezone_id="Asia/Shanghai",
    )


async def _shot(page: Any, name: str) -> None:
    """A 390×844 picture of the top of the page (Playwright creates the directory)."""
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOTS / name), full_page=False)


async def _fits_a_phone(page: Any, *targets: Any) -> None:
    """Nothing wider than the screen; every choice and button a comfortable tap target."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for target in targets:
        for index in range(await target.count()):
            box = await target.nth(index).bounding_box()
            assert box is not None
            assert box["height"] >= 44, box
            assert box["width"] >= 44, box


async def _answer_the_survey(
    platform: Platform, chromium: Any, language: str, email: str
) -> tuple[str, str]:
    """Resolve a complaint, open the survey e-mail's link on a phone and confirm it; the
    complaint id and the team."""
    accepted = post_complaint(platform, email=email, language=language)
    complaint_id = accepted["id"]
    team = resolve(platform, complaint_id)
    link = link_in_mail(platform, email, SURVEY_LINK, "the survey e-mail")
    words = WORDS[language]

    context = await _phone(chromium, language)
    page = await context.new_page()
    await page.goto(link)
    # The secret left the address bar: the page lives at /survey/{id}, the link in a cookie.
    assert "/survey/" in page.url
    assert link.rsplit("/", 1)[1] not in page.url
    [cookie] = [c for c in await context.cookies() if c["name"] == "complaint_link"]
    assert cookie["httpOnly"] is True
    assert cookie["path"] == urlsplit(page.url).path
    assert await page.get_attribute("html", "lang") == language
    assert (await page.inner_text("#reference")).strip() == accepted["reference"]
    await _fits_a_phone(
        page,
        page.locator(".choice .face"),
        page.locator(".survey-form button[type=submit]"),
        page.locator(".language-switch a"),
    )
    await page.get_by_text(words["solved"], exact=True).click()
    await page.locator("label.choice:has(input[name=csat][value='5']) .face").click()
    await page.fill("#comment", "处理得很快，谢谢！" if language == "zh-CN" else "Quick, thanks!")
    assert await page.is_checked("input[name=solved][value=yes]")
    assert await page.is_checked("input[name=csat][value='5']")
    await _shot(page, f"customer-survey-{language}.png")
    await page.locator(".survey-form button[type=submit]").click()
    await page.wait_for_selector("#confirmation")
    assert "done=answered" in page.url
    assert words["thanks"] in await page.inner_text("#confirmation-title")
    assert (await page.inner_text("#outcome")).strip() == words["closed"]
    # The switch: the same confirmation in the other language.
    await page.get_by_role("link", name=words["switch"]).click()
    other = "en" if language == "zh-CN" else "zh-CN"
    await page.wait_for_selector(f"html[lang='{other}']")
    assert (await page.inner_text("#outcome")).strip() == WORDS[other]["closed"]
    await context.close()
    wait_case_status(platform, complaint_id, team, "closed")
    return complaint_id, team


async def test_a_customer_answers_the_survey_and_nps_on_a_phone(
    platform: Platform, chromium: Any
) -> None:
    started = datetime.now(UTC)
    run = uuid.uuid4().hex[:8]
    zh_email, en_email = f"survey.zh.{run}@example.com", f"survey.en.{run}@example.com"
    await _answer_the_survey(platform, chromium, "zh-CN", zh_email)
    await _answer_the_survey(platform, chromium, "en", en_email)

    # The NPS round over these seconds; the zh-CN customer opens the invitation's link.
    open_nps_round(platform, started)
    nps_link = link_in_mail(platform, zh_email, NPS_LINK, "the NPS invitation")
    context = await _phone(chromium, "zh-CN")
    page = await context.new_page()
    await page.goto(nps_link)
    assert "/nps/" in page.url
    assert nps_link.rsplit("/", 1)[1] not in page.url
    assert await page.get_attribute("html", "lang") == "zh-CN"
    scores = page.locator(".scale-11 .choice .face")
    assert await scores.count() == 11
    await _fits_a_phone(page, scores, page.locator(".nps-form button[type=submit]"))
    await page.locator("label.choice:has(input[name=score][value='9']) .face").click()
    await page.fill("#comment", "客服很耐心，退款也很快。")
    await _shot(page, "customer-nps-zh-CN.png")
    await page.locator(".nps-form button[type=submit]").click()
    await page.wait_for_selector("#confirmation")
    assert "9 分" in await page.inner_text("#outcome")
    assert await page.locator("#opt-out button").count() == 1  # "don't ask me again" stays
    await context.close()
