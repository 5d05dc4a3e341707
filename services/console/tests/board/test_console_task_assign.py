"""A lead (or a manager) gives a task on the board to an agent of the team: one select of
the board's agents and a button per open task (CSRF-protected), routing's
``POST /v1/tasks/{id}/assign`` with the agent's id; its refusals (and the console's own
checks) shown on the task's form; agents are offered nothing of it."""

from __future__ import annotations

import re

import pytest
from console_support import (
    AGENT,
    CASE_ID,
    MANAGER,
    Browser,
    FakeUpstream,
    NewBrowser,
    case_file,
    problem,
    task,
    task_page,
)

BOARD = "/board?team=billing"


def _assign_form(page: str, task_id: int) -> str:
    found = re.search(
        rf'<form method="post" action="/tasks/{task_id}/assign-agent".*?</form>', page, re.S
    )
    assert found, task_id
    return found.group(0)


async def test_each_open_task_has_a_select_of_the_team_s_agents(
    lead: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", "/v1/tasks", 200, task_page(task(), task(id=6, assignee="agent-billing")))
    page = (await lead.page("/board")).text
    form = _assign_form(page, 5)
    assert 'class="reassign task-assign"' in form
    assert re.search(r'name="csrf_token" value="[^"]+"', form)
    assert f'name="return_to" value="{BOARD}"' in form
    assert f'name="complaint_id" value="{CASE_ID}"' in form
    assert '<label for="task-5-assignee" class="visually-hidden">分配给坐席</label>' in form
    assert re.findall(r'<option value="([^"]*)"', form) == [
        "",
        "agent-billing-2",
        "agent-billing",
        "agent-billing-3",
    ]
    assert "agent-billing-3 · 离线" in form
    held = _assign_form(page, 6)
    assert '<option value="agent-billing" disabled>agent-billing · 当前处理人</option>' in held


async def test_the_lead_gives_a_task_to_an_agent(lead: Browser, routing: FakeUpstream) -> None:
    routing.answer("GET", "/v1/tasks", 200, task_page(task()))
    response = await lead.post(
        "/tasks/5/assign-agent",
        {"assignee": " agent-billing-2 ", "complaint_id": CASE_ID, "return_to": BOARD},
        from_page="/board",
    )
    assert response.status_code == 303
    assert response.headers["location"] == BOARD
    call = routing.requests("POST", "/v1/tasks/5/assign")[-1]
    assert call.body == {"assignee": "agent-billing-2"}
    assert lead.sent(call)
    assert "任务已分配给所选坐席。" in (await lead.page(BOARD)).text


async def test_a_manager_gives_a_task_on_a_team_s_board(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    routing.answer("GET", "/v1/tasks", 200, task_page(task()))
    page = (await manager.page(BOARD)).text
    assert 'action="/tasks/5/assign-agent"' in page
    response = await manager.post(
        "/tasks/5/assign-agent",
        {"assignee": "agent-billing", "return_to": BOARD},
        from_page=BOARD,
    )
    assert response.status_code == 303
    assert manager.sent(routing.requests("POST", "/v1/tasks/5/assign")[-1])


@pytest.mark.parametrize(
    ("status", "answer", "shown"),
    [
        (
            422,
            problem(422, "unknown-target", "quality-agent is not an agent of team billing."),
            "工单服务拒绝了此请求：</strong> quality-agent is not an agent of team billing.",
        ),
        (409, problem(409, "task-done", "The task is done already."), "The task is done already."),
        (409, problem(409, "no-change", "Assigned to them already."), "Assigned to them already."),
        (403, problem(403, "forbidden", "Not the lead of this team."), "您无权"),
    ],
)
async def test_routing_s_refusals_are_shown_on_the_task_s_form(
    lead: Browser, routing: FakeUpstream, status: int, answer: dict[str, object], shown: str
) -> None:
    routing.answer("GET", "/v1/tasks", 200, task_page(task()))
    routing.answer("POST", r"/v1/tasks/5/assign", status, answer)
    response = await lead.post(
        "/tasks/5/assign-agent",
        {"assignee": "agent-billing-2", "complaint_id": CASE_ID, "return_to": BOARD},
        from_page="/board",
    )
    assert response.status_code == status
    assert '<div id="board-panels"' in response.text  # the board again
    item = re.search(r'<li class="task" id="task-5">.*?</li>', response.text, re.S)
    assert item
    assert '<div class="form-message" role="alert">' in item.group(0)
    assert shown in item.group(0)
    assert '<option value="agent-billing-2" selected>' in item.group(0)
    assert '<details class="task-complete" id="task-complete-5">' in item.group(0)  # closed
    assert response.headers["hx-push-url"] == BOARD


@pytest.mark.parametrize(("assignee", "error"), [("", "此项必填。"), ("张 三", "格式不正确。")])
async def test_an_assignment_the_console_refuses_is_never_sent(
    lead: Browser, routing: FakeUpstream, assignee: str, error: str
) -> None:
    routing.answer("GET", "/v1/tasks", 200, task_page(task()))
    response = await lead.post(
        "/tasks/5/assign-agent",
        {"assignee": assignee, "complaint_id": CASE_ID, "return_to": BOARD},
        from_page="/board",
    )
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="task-5-assignee-error"' in response.text
    assert re.search(
        rf'<p class="field-error" id="task-5-assignee-error">.*{error}', response.text, re.S
    )
    assert not routing.requests("POST", "/v1/tasks/5/assign")


async def test_no_assignment_without_the_csrf_token(lead: Browser, routing: FakeUpstream) -> None:
    for data in ({"assignee": "agent-billing"}, {"assignee": "agent-billing", "csrf_token": "x"}):
        response = await lead.http.post("/tasks/5/assign-agent", data=data)
        assert response.status_code == 403
    assert not routing.requests("POST", "/v1/tasks/5/assign")


async def test_agents_are_offered_no_assignment(
    browser: NewBrowser, routing: FakeUpstream, lead: Browser
) -> None:
    agent = await browser()
    await agent.sign_in_as(AGENT)
    mine = task(id=6, assignee="agent-billing")
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(tasks=[task(), mine]))
    routing.answer("GET", "/v1/tasks", 200, task_page(mine))
    for path in (f"/cases/{CASE_ID}", "/tasks"):
        page = (await agent.page(path)).text
        assert 'action="/tasks/6/complete"' in page, path
        assert "assign-agent" not in page, path
    response = await agent.post(
        "/tasks/6/assign-agent",
        {"assignee": "agent-billing-2", "complaint_id": CASE_ID, "return_to": "/tasks"},
        from_page="/tasks",
    )
    assert response.status_code == 403
    assert (await agent.page("/board")).status_code == 403
    # a lead's case page has no agents' list: the form is the board's
    assert "assign-agent" not in (await lead.page(f"/cases/{CASE_ID}")).text
    assert not routing.requests("POST", "/v1/tasks/6/assign")
