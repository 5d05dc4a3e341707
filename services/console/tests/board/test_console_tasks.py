"""Tasks on the lead's board and on the case page (here reviews; the other kinds in
test_console_task_kinds): a lead takes an open task (assigned to themself) or completes it
with an outcome; routing's refusals are shown on the task's form where it was sent from;
each user is offered only what routing's rules let them do (a lead of the task's team or a
manager; an agent the task assigned to them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from console.board.domain.tasks import task_actions
from console_support import (
    AGENT,
    CASE_ID,
    OPENAPI,
    Browser,
    FakeUpstream,
    NewBrowser,
    case_file,
    problem,
    task,
)

PAGE = f"/cases/{CASE_ID}"
BOARD = "/board?team=billing"


def _open_tasks(routing: FakeUpstream, *tasks: dict[str, object]) -> None:
    routing.answer("GET", "/v1/tasks", 200, {"items": list(tasks), "next": None})


async def test_the_board_offers_each_open_task_to_the_lead(
    lead: Browser, routing: FakeUpstream
) -> None:
    _open_tasks(routing, task())
    page = (await lead.page("/board")).text
    assert "重开复核" in page
    assert "客户表示未解决" in page
    assert 'action="/tasks/5/assign"' in page
    assert 'action="/tasks/5/complete"' in page
    assert 'name="return_to" value="/board?team=billing"' in page
    for outcome in ("已确认解决", "已辅导坐席", "已复核，无需处理"):
        assert outcome in page
    call = routing.requests("GET", "/v1/tasks")[-1]
    assert ("status", "open") in call.params
    assert ("team", "billing") in call.params


async def test_a_task_the_lead_holds_is_not_offered_to_take_again(
    lead: Browser, routing: FakeUpstream
) -> None:
    _open_tasks(routing, task(assignee="lead-billing"))
    page = (await lead.page("/board")).text
    assert 'action="/tasks/5/assign"' not in page
    assert 'action="/tasks/5/complete"' in page


async def test_take_it_assigns_the_task_to_the_lead(lead: Browser, routing: FakeUpstream) -> None:
    _open_tasks(routing, task())
    response = await lead.post(
        "/tasks/5/assign",
        {"complaint_id": CASE_ID, "return_to": BOARD, "assignee": "someone-else"},
        from_page="/board",
    )
    assert response.status_code == 303
    assert response.headers["location"] == BOARD
    call = routing.requests("POST", "/v1/tasks/5/assign")[-1]
    assert call.body == {"assignee": "lead-billing"}  # always the user themself
    assert lead.sent(call)
    assert "任务已由您接手" in (await lead.page(BOARD)).text


async def test_complete_sends_the_outcome_and_the_note(
    lead: Browser, routing: FakeUpstream
) -> None:
    response = await lead.post(
        "/tasks/5/complete",
        {
            "outcome": "coached",
            "note": " 已与坐席复盘 ",
            "complaint_id": CASE_ID,
            "return_to": BOARD,
        },
        from_page="/board",
    )
    assert response.status_code == 303
    call = routing.requests("POST", "/v1/tasks/5/complete")[-1]
    assert call.body == {"outcome": "coached", "note": "已与坐席复盘"}
    assert lead.sent(call)
    response = await lead.post(
        "/tasks/5/complete", {"outcome": "no_action", "return_to": BOARD}, from_page="/board"
    )
    assert routing.requests("POST", "/v1/tasks/5/complete")[-1].body == {"outcome": "no_action"}
    assert "任务已完成" in (await lead.page(BOARD)).text


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        ({"outcome": ""}, "outcome", "此项必填。"),
        ({"outcome": "solved_it"}, "outcome", "请从列表中选择。"),
        ({"outcome": "coached", "note": "长" * 2001}, "note", "最多 2000 个字符。"),
    ],
)
async def test_a_completion_the_console_refuses_is_never_sent(
    lead: Browser, routing: FakeUpstream, form: dict[str, str], field: str, error: str
) -> None:
    _open_tasks(routing, task())
    form = {**form, "complaint_id": CASE_ID, "return_to": BOARD}
    response = await lead.post("/tasks/5/complete", form, from_page="/board")
    assert response.status_code == 422
    assert '<div id="board-panels"' in response.text  # the board again
    assert '<details class="task-complete" id="task-complete-5" open>' in response.text
    assert f'aria-describedby="task-5-{field}-error"' in response.text
    assert error in response.text
    assert not routing.requests("POST", "/v1/tasks/5/complete")


@pytest.mark.parametrize(
    ("status", "answer", "shown"),
    [
        (409, problem(409, "task-done", "The task is done already."), "The task is done already."),
        (403, problem(403, "forbidden", "Not the lead of this team."), "您无权"),
        (
            422,
            problem(
                422,
                "validation",
                "Invalid body",
                errors=[{"field": "outcome", "code": "literal_error", "detail": "bad outcome"}],
            ),
            'aria-describedby="task-5-outcome-error"',
        ),
    ],
)
async def test_routing_s_refusals_are_shown_on_the_board_s_task(
    lead: Browser, routing: FakeUpstream, status: int, answer: dict[str, object], shown: str
) -> None:
    _open_tasks(routing, task())
    routing.answer("POST", r"/v1/tasks/5/complete", status, answer)
    response = await lead.post(
        "/tasks/5/complete",
        {"outcome": "confirmed_fix", "complaint_id": CASE_ID, "return_to": BOARD},
        from_page="/board",
    )
    assert response.status_code == status
    assert '<div id="board-panels"' in response.text
    assert shown in response.text
    assert '<option value="confirmed_fix" selected>' in response.text
    assert response.headers["hx-push-url"] == BOARD


async def test_a_refusal_from_the_case_page_draws_the_case_page(
    lead: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(tasks=[task()]))
    routing.answer("POST", r"/v1/tasks/5/assign", 409, problem(409, "no-change", "Yours already."))
    page = (await lead.page(PAGE)).text
    assert 'action="/tasks/5/assign"' in page
    assert f'name="return_to" value="{PAGE}"' in page
    response = await lead.post(
        "/tasks/5/assign", {"complaint_id": CASE_ID, "return_to": PAGE}, from_page=PAGE
    )
    assert response.status_code == 409
    assert 'class="conversation"' in response.text
    assert "Yours already." in response.text


async def test_the_case_page_offers_an_agent_only_the_task_assigned_to_them(
    agent: Browser, routing: FakeUpstream
) -> None:
    tasks = [task(), task(id=6, assignee="agent-billing"), task(id=7, status="done")]
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(tasks=tasks))
    page = (await agent.page(PAGE)).text
    assert 'action="/tasks/5/' not in page  # not theirs: the lead's
    assert 'action="/tasks/6/assign"' not in page
    assert 'action="/tasks/6/complete"' in page
    assert 'action="/tasks/7/' not in page  # done
    response = await agent.post(
        "/tasks/6/complete",
        {"outcome": "confirmed_fix", "complaint_id": CASE_ID, "return_to": PAGE},
        from_page=PAGE,
    )
    assert response.status_code == 303
    assert response.headers["location"] == PAGE


async def test_a_routing_without_tasks_offers_no_task_action(
    lead: Browser, routing: FakeUpstream
) -> None:
    paths = {p: ops for p, ops in OPENAPI["paths"].items() if not p.startswith("/v1/tasks")}
    routing.answer("GET", "/openapi.json", 200, {"paths": paths})
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(tasks=[task()]))
    page = (await lead.page(PAGE)).text
    assert "重开复核" in page  # the case file still lists it
    assert "/tasks/5/" not in page


async def test_no_task_action_without_the_csrf_token(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    agent = await browser()
    await agent.sign_in_as(AGENT)
    for path in ("/tasks/5/assign", "/tasks/5/complete"):
        response = await agent.http.post(path, data={"outcome": "coached", "csrf_token": "x"})
        assert response.status_code == 403
    assert not [s for s in routing.seen if s.method == "POST"]


def test_who_may_take_and_complete_a_task() -> None:
    def offers(
        roles: tuple[str, ...],
        team: str | None,
        *,
        assignee: str | None = None,
        status: str = "open",
    ) -> set[str]:
        return set(
            task_actions(
                roles=roles,
                subject="me",
                team=team,
                task_team="billing",
                task_status=status,
                task_assignee=assignee,
                task_kind="review_reopen",
                available_from=None,
                now=datetime.now(UTC),
            )
        )

    assert offers(("lead",), "billing") == {"take", "assign", "complete"}
    assert offers(("lead",), "quality") == set()  # another team's lead
    assert offers(("manager",), None) == {"take", "assign", "complete"}
    assert offers(("lead",), "billing", assignee="me") == {"assign", "complete"}
    assert offers(("agent",), "billing") == set()
    assert offers(("agent",), "billing", assignee="me") == {"complete"}
    assert offers(("admin",), None) == set()
    assert offers(("manager",), None, status="done") == set()
