"""The queues: my open cases from routing (``assignee=me``, the open statuses unless a
status chip is on), rows as agents expect them, chips and search passed through to
routing, "more" with routing's cursor, the team queue with its waiting cases."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from console.queue.domain.filters import OPEN_STATUSES, QueueFilters
from console.queue.domain.rows import CaseRow
from console_support import (
    LEAD,
    MANAGER,
    Browser,
    FakeUpstream,
    NewBrowser,
    case_row,
    problem,
)


async def test_my_queue_lists_my_open_cases_with_the_user_s_token(
    agent: Browser, routing: FakeUpstream
) -> None:
    page = await agent.page("/")
    assert page.status_code == 200
    call = routing.requests("GET", "/v1/cases")[-1]
    assert agent.sent(call)  # a token the console signed for routing, not the pasted one
    assert ("assignee", "me") in call.params
    assert [v for k, v in call.params if k == "status"] == list(OPEN_STATUSES)
    assert ("limit", "25") in call.params


async def test_a_row_shows_what_an_agent_needs(agent: Browser) -> None:
    text = (await agent.page("/")).text
    for shown in (
        "C-20261206-000042",  # reference
        "退款延迟 refund delayed",  # subject
        "网站",  # channel
        "黄金",  # tier
        "P2 高",  # priority badge
        "剩余 1小时20分",  # time left
        'class="sla sla-ok"',
        "正常",  # the SLA word next to the colour
        "已分配",  # status
        "5分钟前",  # last activity
    ):
        assert shown in text, shown
    assert 'href="/cases/0192f3a4-5b6c-7d8e-9f00-112233445566"' in text


async def test_the_same_row_in_english(agent: Browser) -> None:
    await agent.post("/language", {"language": "en", "next": "/"}, from_page="/")
    text = (await agent.page("/")).text
    for shown in ("1 h 20 min left", "On track", "Assigned", "P2 High", "Gold", "5 min ago"):
        assert shown in text, shown


@pytest.mark.parametrize(
    ("row", "css", "word"),
    [
        ({"sla_state": "at_risk", "sla_time_left_s": 1800}, "sla-warning", "有风险"),
        (
            {"sla_state": "at_risk", "sla_warned_percent": 90, "sla_time_left_s": 300},
            "sla-danger",
            "紧急",
        ),
        ({"sla_state": "breached", "sla_time_left_s": -2100}, "sla-breached", "已超时"),
        ({"sla_state": "paused", "sla_time_left_s": None}, "sla-paused", "已暂停"),
    ],
)
async def test_the_sla_badge_has_a_colour_and_a_word(
    agent: Browser, routing: FakeUpstream, row: dict[str, object], css: str, word: str
) -> None:
    routing.answer("GET", "/v1/cases", 200, {"items": [case_row(**row)], "next": None})
    text = (await agent.page("/")).text
    assert f'class="sla {css}"' in text
    assert f'<span class="sla-word">{word}</span>' in text
    if row.get("sla_state") == "breached":
        assert "超时 35分" in text


@pytest.mark.parametrize(
    ("state", "percent", "level"),
    [
        ("at_risk", 90, "danger"),  # past 90 %: red, "Urgent"
        ("at_risk", 75, "warning"),
        ("at_risk", None, "warning"),  # a routing without the percent: amber
        ("on_track", None, "ok"),
        ("breached", 90, "breached"),
    ],
)
def test_a_row_s_badge_takes_routing_s_warning_percent(
    state: str, percent: int | None, level: str
) -> None:
    row = CaseRow.of(case_row(sla_state=state, sla_warned_percent=percent, sla_time_left_s=300))
    assert row.sla.level == level
    assert row.sla.label_key == f"sla.level.{level}"


async def test_chips_and_search_are_passed_to_routing(
    agent: Browser, routing: FakeUpstream
) -> None:
    query = (
        "/?status=in_progress&priority=P1&priority=P2&sla=at_risk&channel=wechat"
        "&category=billing_refund&q=退款&status=nonsense"
    )
    page = await agent.page(query)
    assert page.status_code == 200
    params = routing.requests("GET", "/v1/cases")[-1].params
    assert [v for k, v in params if k == "status"] == ["in_progress"]  # unknown value dropped
    assert [v for k, v in params if k == "priority"] == ["P1", "P2"]
    assert ("sla", "at_risk") in params
    assert ("channel", "wechat") in params
    assert ("category", "billing_refund") in params
    assert ("q", "退款") in params
    assert 'value="退款"' in page.text
    # the in_progress chip is on; its link is the same query without it
    assert (
        'class="chip on" href="/?priority=P1&amp;priority=P2&amp;sla=at_risk&amp;channel=wechat'
        '&amp;category=billing_refund&amp;q=%E9%80%80%E6%AC%BE"'
    ) in page.text
    assert 'aria-current="true"' in page.text


def test_a_chip_link_switches_only_its_own_chip() -> None:
    filters = QueueFilters.of([("priority", "P1"), ("q", "退款")])
    assert filters.toggled("priority", "P1").query() == [("q", "退款")]
    assert filters.toggled("sla", "breached").query() == [
        ("priority", "P1"),
        ("sla", "breached"),
        ("q", "退款"),
    ]


def test_filters_read_only_known_values_and_bound_the_search() -> None:
    filters = QueueFilters.of(
        [("status", "closed"), ("status", "closed"), ("channel", "fax"), ("q", "  a   b " * 100)]
    )
    assert filters.status == ("closed",)
    assert filters.channel == ()
    assert len(filters.q) <= 200
    assert filters.routing_params(assignee="me", limit=10)[:2] == [
        ("assignee", "me"),
        ("status", "closed"),
    ]


async def test_more_asks_routing_for_the_next_page_with_its_cursor(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", "/v1/cases", 200, {"items": [case_row()], "next": "CURSOR-2"})
    page = await agent.page("/?priority=P2")
    assert 'hx-get="/queue/list?priority=P2&amp;cursor=CURSOR-2"' in page.text
    rows = await agent.page("/queue/list?priority=P2&cursor=CURSOR-2")
    assert rows.status_code == 200
    assert rows.text.lstrip().startswith("<tr")  # only rows, appended below the others
    assert ("cursor", "CURSOR-2") in routing.requests("GET", "/v1/cases")[-1].params


async def test_the_list_alone_is_what_live_updates_fetch(agent: Browser) -> None:
    page = await agent.page("/")
    assert 'sse-connect="/live/stream"' in page.text
    assert 'hx-trigger="sse:case-changed delay:300ms"' in page.text
    fragment = await agent.page("/queue/list", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="case-list"')
    assert "<html" not in fragment.text


async def test_a_search_routing_refuses_says_so_in_place(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer(
        "GET",
        "/v1/cases",
        422,
        problem(422, "validation", "1 field(s) failed validation.", errors=[{"field": "q"}]),
    )
    page = await agent.page("/?q=" + "词 " * 30)
    assert page.status_code == 422
    assert "无法按此条件搜索" in page.text
    assert "我的队列" in page.text  # the page itself is there


async def test_an_empty_queue_says_so(agent: Browser, routing: FakeUpstream) -> None:
    routing.answer("GET", "/v1/cases", 200, {"items": [], "next": None})
    assert "没有符合条件的工单" in (await agent.page("/")).text


async def test_the_team_queue_shows_the_team_s_cases_and_its_waiting_queue(
    lead: Browser, routing: FakeUpstream
) -> None:
    page = await lead.page("/team")
    assert page.status_code == 200
    assert ("team", "billing") in routing.requests("GET", "/v1/cases")[-1].params
    assert routing.requests("GET", "/v1/teams/billing/queue")
    assert "C-20261206-000099" in page.text  # waiting
    assert "42分" in page.text  # waiting for 42 minutes


async def test_a_lead_cannot_open_another_team_s_queue(lead: Browser) -> None:
    page = await lead.page("/team?team=quality")
    assert page.status_code == 403


async def test_a_manager_picks_the_team(browser: NewBrowser, routing: FakeUpstream) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    first = await manager.page("/team")
    assert first.status_code == 200
    assert '<option value="quality">' in first.text
    page = await manager.page("/team?team=quality")
    assert ("team", "quality") in routing.requests("GET", "/v1/cases")[-1].params
    assert 'value="quality" selected' in page.text


async def test_the_team_list_alone_keeps_the_team(lead: Browser) -> None:
    page = await lead.page("/team?priority=P1")
    found = [part for part in page.text.split('"') if part.startswith("/team/list?")]
    assert found
    assert dict(parse_qsl(found[0].split("?", 1)[1].replace("&amp;", "&"))) == {
        "team": "billing",
        "priority": "P1",
    }
    assert LEAD["team"] == "billing"
