"""The lead's board: agents with load, capacity and availability, the waiting queue, the
cases at risk and breached, the review tasks and the next deadlines, one reassign form per
case; for leads and managers only."""

from __future__ import annotations

from console.board.domain.board import AgentLoad, agent_loads
from console_support import (
    CASE_ID,
    MANAGER,
    Browser,
    FakeUpstream,
    NewBrowser,
    case_row,
)


async def test_the_board_shows_the_team(
    lead: Browser, routing: FakeUpstream, sla_watch: FakeUpstream
) -> None:
    routing.answer(
        "GET",
        "/v1/tasks",
        200,
        {
            "items": [
                {
                    "id": 5,
                    "kind": "review_reopen",
                    "complaint_id": CASE_ID,
                    "team": "billing",
                    "status": "open",
                    "assignee": None,
                    "reason": "客户表示未解决",
                    "due_at": "2026-12-07T02:00:00+00:00",
                }
            ],
            "next": None,
        },
    )
    page = await lead.page("/board")
    assert page.status_code == 200
    text = page.text
    for shown in (
        "agent-billing-2",
        "5/5",  # load of capacity
        "已满",
        "离线",  # the offline agent
        "C-20261206-000099",  # waiting
        "重开复核",  # the review task
        "客户表示未解决",
        "即将到期",
    ):
        assert shown in text, shown
    lists = routing.requests("GET", "/v1/cases")
    assert {dict(c.params).get("sla") for c in lists} == {"at_risk", "breached"}
    assert all(("team", "billing") in c.params for c in lists)
    assert all(lead.sent(c) for c in routing.seen if c.path != "/openapi.json")
    assert lead.sent(sla_watch.requests("GET", "/v1/clocks/at-risk")[-1], "sla-watch")
    assert ("team", "billing") in routing.requests("GET", "/v1/tasks")[-1].params


async def test_each_case_has_a_one_click_reassign_form(
    lead: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", "/v1/cases", 200, {"items": [case_row(version=4)], "next": None})
    text = (await lead.page("/board")).text
    assert f'action="/cases/{CASE_ID}/transfer" class="reassign"' in text
    assert 'name="return_to" value="/board?team=billing"' in text
    assert 'name="version" value="4"' in text
    assert '<option value="agent-billing-2" disabled>' in text  # full
    assert '<option value="agent-billing">' in text
    response = await lead.post(
        f"/cases/{CASE_ID}/transfer",
        {
            "assignee": "agent-billing",
            "reason": "组长在看板上重新分配",
            "return_to": "/board?team=billing",
            "version": "4",
        },
        from_page="/board",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/board?team=billing"
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/transfer")[-1]
    assert call.body == {"assignee": "agent-billing", "reason": "组长在看板上重新分配"}
    assert call.headers["if-match"] == '"4"'


async def test_the_panels_alone_refresh_on_live_changes(lead: Browser) -> None:
    page = await lead.page("/board")
    assert 'hx-get="/board/panels?team=billing"' in page.text
    assert 'hx-trigger="sse:case-changed delay:500ms"' in page.text
    panels = await lead.page("/board/panels?team=billing", headers={"HX-Request": "true"})
    assert panels.text.lstrip().startswith('<div id="board-panels"')


async def test_sla_watch_down_leaves_only_its_panel_out(
    lead: Browser, sla_watch: FakeUpstream
) -> None:
    sla_watch.down = True
    page = await lead.page("/board")
    assert page.status_code == 200
    assert "时效服务暂不可用" in page.text


async def test_agents_have_no_board(agent: Browser) -> None:
    page = await agent.page("/board")
    assert page.status_code == 403
    assert "无权访问" in page.text
    assert 'href="/board"' not in (await agent.page("/")).text


async def test_a_manager_picks_a_team_for_the_board(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    first = await manager.page("/board")
    assert first.status_code == 200
    assert not routing.requests("GET", "/v1/admin/agents")
    page = await manager.page("/board?team=quality")
    assert page.status_code == 200
    assert ("team", "quality") in routing.requests("GET", "/v1/admin/agents")[-1].params


async def test_a_manager_s_panels_refresh_fetches_no_team_list(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    await manager.page("/board?team=quality")
    fetched = len(routing.requests("GET", "/v1/admin/teams"))
    assert fetched >= 1  # the page's team picker
    panels = await manager.page("/board/panels?team=quality", headers={"HX-Request": "true"})
    assert panels.status_code == 200
    assert panels.text.lstrip().startswith('<div id="board-panels"')
    assert len(routing.requests("GET", "/v1/admin/teams")) == fetched


def test_agents_online_first_then_the_most_loaded() -> None:
    loads = agent_loads(
        [
            {"id": "a", "availability": "offline", "open_load": 9, "capacity": 10},
            {"id": "b", "availability": "online", "open_load": 1, "capacity": 10},
            {"id": "c", "availability": "online", "open_load": 8, "capacity": 10},
        ]
    )
    assert [a.id for a in loads] == ["c", "b", "a"]
    assert AgentLoad("x", "senior", "online", 3, 0).full
    assert AgentLoad("x", "senior", "online", 3, 0).percent == 100
