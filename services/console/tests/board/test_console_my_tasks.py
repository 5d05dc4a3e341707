""" "My tasks" (``/tasks``): the signed-in agent's, lead's or manager's own open tasks
(routing's ``assignee=me``), one section per kind with routing's overdue count, each task
with its case, due time, window, overdue badge and completion form; a page of each kind
and its next pages (``/tasks/more`` for htmx, ``/tasks?kind=…&cursor=…`` without it); the
navigation's item and its count; a completion from the page comes back to it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from console_support import (
    CASE_ID,
    MANAGER,
    OPENAPI,
    OTHER_CASE_ID,
    Browser,
    FakeUpstream,
    NewBrowser,
    follow_up_call,
    iso,
    problem,
    task,
    task_page,
    unreachable_task,
)

TASKS = "/tasks"
ADMIN = {"subject": "admin-1", "roles": ("admin",), "team": None}


def _mine(
    routing: FakeUpstream,
    *tasks: dict[str, Any],
    overdue: dict[str, int] | None = None,
    next_of: dict[str, str] | None = None,
) -> None:
    """routing's list of the caller's tasks, filtered by the ``kind`` asked, with its
    overdue count and, per kind, the cursor of a next page."""

    def answer(request: httpx.Request) -> dict[str, Any]:
        kind = request.url.params.get("kind")
        found = [t for t in tasks if kind is None or t["kind"] == kind]
        count = (overdue or {}).get(kind or "", 0)
        return task_page(*found, overdue_count=count, next=(next_of or {}).get(kind or ""))

    routing.answer("GET", "/v1/tasks", 200, answer)


def _section(page: str, kind: str) -> str:
    found = re.search(
        rf'<section class="panel task-group task-group-{kind}".*?</section>', page, re.S
    )
    assert found, kind
    return found.group(0)


def _item(page: str, task_id: int) -> str:
    found = re.search(rf'<li class="task[^"]*" id="task-{task_id}">.*?</li>', page, re.S)
    assert found, task_id
    return found.group(0)


async def test_an_agent_s_open_tasks_by_kind(agent: Browser, routing: FakeUpstream) -> None:
    late = follow_up_call(id=11, resolved_days_ago=31, complaint_id=OTHER_CASE_ID)
    _mine(
        routing,
        late,  # routing lists by due time
        follow_up_call(),
        follow_up_call(id=10, resolved_days_ago=3),  # its window opens in 12 days
        unreachable_task(assignee="agent-billing"),
        overdue={"follow_up_call": 1},
    )
    response = await agent.page(TASKS)
    assert response.status_code == 200
    page = response.text
    calls = routing.requests("GET", "/v1/tasks")
    assert sorted(dict(c.params)["kind"] for c in calls) == [
        "customer_unreachable",
        "follow_up_call",
        "review_reopen",
    ]
    for call in calls:
        assert ("assignee", "me") in call.params
        assert ("status", "open") in call.params
        assert ("limit", "25") in call.params
        assert "team" not in dict(call.params)
        assert "cursor" not in dict(call.params)
        assert agent.sent(call)

    assert "<h1>我的任务</h1>" in page
    assert "首次接待的坐席" in page  # why a follow-up call of a case gone from the queue is here
    assert "task-group-review_reopen" not in page  # a kind they have none of is left out
    calls_due = _section(page, "follow_up_call")
    assert "待回访" in calls_due
    assert '<span class="count">3</span>' in calls_due
    assert '<span class="badge overdue">1 个已逾期</span>' in calls_due
    # in routing's order, the one not workable yet among the others
    assert re.findall(r'id="task-(\d+)"', calls_due)[:3] == ["11", "8", "10"]

    item = _item(page, 11)
    assert 'class="task task-overdue"' in item
    assert f'<a class="task-case" href="/cases/{OTHER_CASE_ID}"' in item
    assert "工单 …ccddeeff</a>" in item  # the end of its case's id
    assert '<span class="badge overdue">已逾期</span>' in item
    assert "截止" in item  # its due time
    assert "起可处理" in item  # and its window
    assert "P1/P2 工单解决后的回访" in item

    item = _item(page, 8)
    assert 'action="/tasks/8/complete"' in item
    assert '<input type="hidden" name="kind" value="follow_up_call">' in item
    assert '<input type="hidden" name="return_to" value="/tasks">' in item
    assert f'<input type="hidden" name="complaint_id" value="{CASE_ID}">' in item
    assert 'name="csat"' in item
    assert 'action="/tasks/8/assign' not in item  # neither taken nor given by an agent

    item = _item(page, 10)
    assert 'action="/tasks/10/complete"' not in item
    assert re.search(r'id="task-later-10">\d{4}年\d+月\d+日 \d\d:\d\d 前暂不可完成<', item)

    unreachable = _section(page, "customer_unreachable")
    assert 'action="/tasks/9/complete"' in unreachable
    assert "个已逾期" not in unreachable


async def test_the_navigation_has_my_tasks_and_fetches_its_count(
    agent: Browser, routing: FakeUpstream
) -> None:
    queue = (await agent.page("/")).text
    assert re.search(
        r'<a href="/tasks">我的任务<span class="nav-count-slot" hx-get="/tasks/count"', queue
    )
    assert queue.index('href="/team"') < queue.index('href="/tasks"')
    assert not routing.requests("GET", "/v1/tasks")  # the queue never waits for the count
    page = (await agent.page(TASKS)).text
    assert '<a href="/tasks" aria-current="page">我的任务' in page


async def test_the_count_of_tasks_workable_now_and_overdue(
    agent: Browser, routing: FakeUpstream
) -> None:
    overdue = follow_up_call(id=11, resolved_days_ago=31)
    routing.answer(
        "GET",
        "/v1/tasks",
        200,
        task_page(
            task(assignee="agent-billing"),
            overdue,
            follow_up_call(id=10, resolved_days_ago=3),  # not workable yet: not counted
            overdue_count=1,
        ),
    )
    response = await agent.page("/tasks/count", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert (
        '<span class="count nav-count overdue"><span aria-hidden="true">2</span>' in response.text
    )
    assert "2 个可处理的任务，其中 1 个已逾期" in response.text
    call = routing.requests("GET", "/v1/tasks")[-1]
    assert sorted(call.params) == [("assignee", "me"), ("limit", "50"), ("status", "open")]
    assert agent.sent(call)

    routing.answer("GET", "/v1/tasks", 200, task_page(task(assignee="agent-billing"), next="c2"))
    text = (await agent.page("/tasks/count")).text
    assert '<span class="count nav-count"><span aria-hidden="true">1+</span>' in text

    routing.answer("GET", "/v1/tasks", 200, task_page(follow_up_call(resolved_days_ago=3)))
    assert (await agent.page("/tasks/count")).status_code == 204  # nothing to work on yet
    routing.answer("GET", "/v1/tasks", 503, problem(503, "unavailable", "Try again."))
    assert (await agent.page("/tasks/count")).status_code == 204  # no count, no error


async def test_a_next_page_of_one_kind(agent: Browser, routing: FakeUpstream) -> None:
    _mine(routing, follow_up_call(), next_of={"follow_up_call": "c2"})
    page = (await agent.page(TASKS)).text
    calls_due = _section(page, "follow_up_call")
    assert '<span class="count">1+</span>' in calls_due
    assert 'href="/tasks?kind=follow_up_call&amp;cursor=c2"' in calls_due
    assert 'hx-get="/tasks/more?kind=follow_up_call&amp;cursor=c2"' in calls_due

    _mine(routing, follow_up_call(id=12))
    more = await agent.page(
        "/tasks/more?kind=follow_up_call&cursor=c2", headers={"HX-Request": "true"}
    )
    assert more.status_code == 200
    assert more.text.lstrip().startswith('<li class="task" id="task-12">')
    assert "<html" not in more.text
    assert 'name="return_to" value="/tasks?kind=follow_up_call&amp;cursor=c2"' in more.text
    assert "more-item" not in more.text  # the last page
    call = routing.requests("GET", "/v1/tasks")[-1]
    assert ("cursor", "c2") in call.params
    assert ("kind", "follow_up_call") in call.params
    assert ("assignee", "me") in call.params

    # Without htmx the link is that page: one kind alone, and the way back to all of them.
    before = len(routing.requests("GET", "/v1/tasks"))
    page = (await agent.page("/tasks?kind=follow_up_call&cursor=c2")).text
    assert len(routing.requests("GET", "/v1/tasks")) == before + 1
    assert 'id="task-12"' in page
    assert '<a href="/tasks">查看全部类型</a>' in page
    assert 'name="return_to" value="/tasks?kind=follow_up_call&amp;cursor=c2"' in page

    assert (await agent.page("/tasks/more?kind=nonsense&cursor=c2")).status_code == 422
    assert (await agent.page("/tasks/more?kind=follow_up_call")).status_code == 422


async def test_no_open_task(agent: Browser, routing: FakeUpstream) -> None:
    page = (await agent.page(TASKS)).text
    assert "您没有待办任务。" in page
    assert "task-group" not in page
    # a cursor without its kind is not passed on
    await agent.page("/tasks?cursor=c2")
    assert all("cursor" not in dict(c.params) for c in routing.requests("GET", "/v1/tasks"))


async def test_a_routing_without_tasks(agent: Browser, routing: FakeUpstream) -> None:
    paths = {p: ops for p, ops in OPENAPI["paths"].items() if not p.startswith("/v1/tasks")}
    routing.answer("GET", "/openapi.json", 200, {"paths": paths})
    page = (await agent.page(TASKS)).text
    assert "当前无法使用任务功能" in page
    assert (await agent.page("/tasks/count")).status_code == 204
    assert not routing.requests("GET", "/v1/tasks")


async def test_leads_and_managers_see_their_own_tasks(
    lead: Browser, browser: NewBrowser, routing: FakeUpstream
) -> None:
    _mine(routing, task(assignee="lead-billing"))
    page = (await lead.page(TASKS)).text
    item = _item(page, 5)
    assert "重开复核" not in item  # the section says the kind
    assert "复核任务" in _section(page, "review_reopen")
    assert 'action="/tasks/5/complete"' in item
    assert 'action="/tasks/5/assign"' not in item  # theirs already
    assert "assign-agent" not in item  # agents are given tasks on the board
    assert all(("assignee", "me") in c.params for c in routing.requests("GET", "/v1/tasks"))
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    _mine(routing, unreachable_task(assignee="manager-1"))
    page = (await manager.page(TASKS)).text
    assert 'action="/tasks/9/complete"' in _item(page, 9)
    assert 'href="/tasks"' in page


async def test_an_administrator_has_no_tasks(browser: NewBrowser, routing: FakeUpstream) -> None:
    admin = await browser()
    await admin.sign_in_as(ADMIN)
    assert 'href="/tasks"' not in (await admin.page("/team")).text
    for path in (TASKS, "/tasks/count", "/tasks/more?kind=follow_up_call&cursor=c2"):
        assert (await admin.page(path)).status_code == 403
    assert not routing.requests("GET", "/v1/tasks")


async def test_a_completion_from_the_page_comes_back_to_it(
    agent: Browser, routing: FakeUpstream
) -> None:
    _mine(routing, follow_up_call())
    response = await agent.post(
        "/tasks/8/complete",
        {"kind": "follow_up_call", "outcome": "reached", "csat": "5", "complaint_id": CASE_ID,
         "return_to": TASKS},
        from_page=TASKS,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == TASKS
    call = routing.requests("POST", "/v1/tasks/8/complete")[-1]
    assert call.body == {"outcome": "reached", "csat": 5}
    assert agent.sent(call)
    assert "任务已完成。" in (await agent.page(TASKS)).text


async def test_a_refused_completion_draws_my_tasks_again(
    agent: Browser, routing: FakeUpstream
) -> None:
    _mine(routing, follow_up_call(), next_of={"follow_up_call": "c3"})
    back = "/tasks?kind=follow_up_call&cursor=c2"
    sent = {"kind": "follow_up_call", "outcome": "", "complaint_id": CASE_ID, "return_to": back}
    response = await agent.post("/tasks/8/complete", sent, from_page=TASKS)
    assert response.status_code == 422
    assert "<h1>我的任务</h1>" in response.text
    assert '<details class="task-complete" id="task-complete-8" open>' in response.text
    assert 'id="task-8-outcome-error"' in response.text
    assert response.headers["hx-push-url"] == back
    assert ("cursor", "c2") in routing.requests("GET", "/v1/tasks")[-1].params  # the same page
    assert not routing.requests("POST", "/v1/tasks/8/complete")

    routing.answer(
        "POST", r"/v1/tasks/8/complete", 409, problem(409, "task-not-available", "Not yet.")
    )
    sent = {**sent, "outcome": "reached", "return_to": TASKS}
    response = await agent.post("/tasks/8/complete", sent, from_page=TASKS)
    assert response.status_code == 409
    assert "此任务尚未到可完成的时间，未做任何更改。" in response.text
    assert '<option value="reached" selected>' in response.text
    assert response.headers["hx-push-url"] == TASKS


async def test_my_tasks_in_english(agent: Browser, routing: FakeUpstream) -> None:
    due = datetime.now(UTC) - timedelta(hours=1)
    _mine(
        routing,
        unreachable_task(assignee="agent-billing", overdue=True, due_at=iso(due)),
        overdue={"customer_unreachable": 1},
    )
    await agent.post("/language", {"language": "en", "next": TASKS}, from_page=TASKS)
    page = (await agent.page(TASKS)).text
    for shown in ("<h1>My tasks</h1>", "Unreachable customers", "1 overdue", ">Overdue<",
                  "Case …", "first-contact agent"):  # fmt: skip
        assert shown in page, shown
    assert '<a href="/tasks" aria-current="page">My tasks' in page
