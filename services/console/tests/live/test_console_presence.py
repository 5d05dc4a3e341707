""" "Another agent is writing": a user typing in a case's composer is shown to the case's
other viewers ("agent-billing is writing a reply") until a few seconds after their last
keystroke, never to themself; the state is in the console's database (two apps on one
database see each other's writers, as replicas do), the report needs the CSRF token, and
expired rows are ignored at once and pruned later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from complaint_runtime.database import utcnow
from console.bootstrap import Dependencies
from console.live import service
from console.live.db import CasePresence, LiveCase
from console_support import (
    AGENT,
    CASE_ID,
    LEAD,
    MANAGER,
    Browser,
    NewBrowser,
    NewDeps,
)
from sqlalchemy import func, select

PAGE = f"/cases/{CASE_ID}"
PRESENCE = f"{PAGE}/presence"
HTMX = {"HX-Request": "true"}


class Clock:
    """Real time moved on by hand (sessions expire by the same clock)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


async def _typing(user: Browser, activity: str = "reply") -> int:
    csrf = await user.csrf(PAGE)
    response = await user.http.post(
        f"{PRESENCE}?activity={activity}", headers={**HTMX, "X-CSRF-Token": csrf}
    )
    return response.status_code


async def _shown_to(user: Browser) -> str:
    response = await user.page(PRESENCE, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    return response.text


async def _two(
    browser: NewBrowser, deps: Dependencies, first: dict[str, object], second: dict[str, object]
) -> tuple[Browser, Browser]:
    one, two = await browser(deps), await browser(deps)
    await one.sign_in_as(first)
    await two.sign_in_as(second)
    return one, two


async def test_the_page_reports_typing_and_polls_who_else_writes(agent: Browser) -> None:
    page = (await agent.page(PAGE)).text
    assert f'hx-get="{PRESENCE}" hx-trigger="load, every 5s"' in page
    for activity in ("reply", "ask", "note"):
        assert (
            f'hx-post="{PRESENCE}?activity={activity}" hx-trigger="input changed throttle:3s" '
            'hx-params="none" hx-swap="none"'
        ) in page


async def test_a_writer_is_shown_to_the_others_and_not_to_themself(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    deps = await make_deps()
    writer, reader = await _two(browser, deps, AGENT, LEAD)
    assert "正在撰写" not in await _shown_to(reader)
    assert await _typing(writer) == 204
    assert "agent-billing 正在撰写回复" in await _shown_to(reader)
    assert "正在撰写" not in await _shown_to(writer)
    await _typing(writer, "note")
    assert "agent-billing 正在撰写内部备注" in await _shown_to(reader)
    english = await reader.page(PRESENCE, headers={**HTMX, "Accept-Language": "en"})
    assert "agent-billing is writing an internal note" in english.text


@pytest.mark.parametrize(
    ("activity", "path", "form"),
    [
        ("reply", "replies", {"message": "已为您加急处理。"}),
        ("ask", "questions", {"reason": "请提供订单截图"}),
        ("note", "notes", {"text": "已联系财务"}),
    ],
)
async def test_a_writer_who_sends_is_no_longer_shown(
    browser: NewBrowser, make_deps: NewDeps, activity: str, path: str, form: dict[str, str]
) -> None:
    deps = await make_deps()
    writer, reader = await _two(browser, deps, AGENT, LEAD)
    await _typing(writer, activity)
    await _typing(reader, "note")  # another writer's row is left alone
    assert "agent-billing 正在撰写" in await _shown_to(reader)
    response = await writer.post(f"{PAGE}/{path}", {**form, "version": "7"}, from_page=PAGE)
    assert response.status_code == 303, response.text
    assert "正在撰写" not in await _shown_to(reader)  # at once, not after the TTL
    assert "lead-billing 正在撰写内部备注" in await _shown_to(writer)
    async with deps.database.sessions() as session:
        users = set(await session.scalars(select(CasePresence.user_id)))
    assert users == {"lead-billing"}


async def test_a_refused_send_keeps_the_writer_shown(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    deps = await make_deps()
    writer, reader = await _two(browser, deps, AGENT, LEAD)
    await _typing(writer)
    response = await writer.post(f"{PAGE}/replies", {"message": " "}, from_page=PAGE)
    assert response.status_code == 422
    assert "agent-billing 正在撰写回复" in await _shown_to(reader)


async def test_replicas_share_who_is_writing(browser: NewBrowser, make_deps: NewDeps) -> None:
    first = await make_deps()
    second = await make_deps(database_url=first.settings.database_url)
    writer, reader = await browser(first), await browser(second)
    await writer.sign_in_as(AGENT)
    await reader.sign_in_as(MANAGER)
    await _typing(writer, "ask")
    assert "agent-billing 正在撰写给客户的问题" in await _shown_to(reader)


async def test_a_writer_who_stops_typing_disappears(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    clock = Clock()
    deps = await make_deps(clock=clock, console_presence_ttl_s=15)
    writer, reader = await _two(browser, deps, AGENT, LEAD)
    await _typing(writer)
    clock.offset = timedelta(seconds=14)
    assert "agent-billing" in await _shown_to(reader)
    await _typing(writer)  # typing again keeps them shown
    clock.offset = timedelta(seconds=28)
    assert "agent-billing" in await _shown_to(reader)
    clock.offset = timedelta(seconds=30)
    assert "正在撰写" not in await _shown_to(reader)
    assert await service.prune(database=deps.database, now=clock(), retention_s=3600) >= 1
    async with deps.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CasePresence)) == 0


async def test_a_case_of_another_team_shows_and_takes_no_writer(
    browser: NewBrowser, make_deps: NewDeps
) -> None:
    deps = await make_deps()
    async with deps.database.unit_of_work() as uow:
        uow.session.add(
            LiveCase(
                complaint_id=CASE_ID,
                team="quality",
                assignee="agent-quality",
                updated_at=datetime.now(UTC),
            )
        )
    quality = {"subject": "lead-quality", "roles": ("lead",), "team": "quality"}
    writer, outsider = await _two(browser, deps, quality, AGENT)
    await _typing(writer)
    assert "正在撰写" not in await _shown_to(outsider)  # the read model: not their case
    await _typing(outsider)  # ignored: the case is not theirs
    async with deps.database.sessions() as session:
        users = set(await session.scalars(select(CasePresence.user_id)))
    assert users == {"lead-quality"}


async def test_typing_is_refused_without_the_csrf_token(agent: Browser) -> None:
    response = await agent.http.post(PRESENCE, headers={**HTMX, "X-CSRF-Token": "forged"})
    assert response.status_code == 403
    async with agent.deps.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CasePresence)) == 0


async def test_an_unknown_case_or_activity_is_refused(agent: Browser) -> None:
    csrf = await agent.csrf(PAGE)
    headers = {**HTMX, "X-CSRF-Token": csrf}
    assert (await agent.http.post("/cases/nope/presence", headers=headers)).status_code == 404
    assert (await agent.http.post(f"{PRESENCE}?activity=x", headers=headers)).status_code == 422
    assert (await agent.page("/cases/nope/presence", headers=HTMX)).status_code == 404
