"""The three kinds of task on the lead's board and the case page: reviews, 回访 follow-up
calls and unreachable customers, each in its own group of the board with routing's overdue
count and an overdue badge per task (a word, not only a colour); each completion form with
its kind's outcomes, the follow-up call's with the customer's optional CSAT, and none
before the call's window opens; the case page lists each task's kind, window, due time
and, once done, its outcome and CSAT."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from console_support import (
    CASE_ID,
    Browser,
    FakeUpstream,
    case_file,
    follow_up_call,
    iso,
    problem,
    task,
    task_page,
    unreachable_task,
)

PAGE = f"/cases/{CASE_ID}"
BOARD = "/board?team=billing"


def _by_kind(routing: FakeUpstream, *tasks: dict[str, Any], overdue: dict[str, int]) -> None:
    """routing's task list filtered by the ``kind`` asked, with its overdue count."""

    def answer(request: httpx.Request) -> dict[str, Any]:
        kind = request.url.params.get("kind")
        found = [t for t in tasks if kind is None or t["kind"] == kind]
        return task_page(*found, overdue_count=overdue.get(kind or "", 0))

    routing.answer("GET", "/v1/tasks", 200, answer)


def _section(page: str, kind: str) -> str:
    """The board's group of one kind."""
    found = re.search(rf'<section class="task-group task-group-{kind}".*?</section>', page, re.S)
    assert found, kind
    return found.group(0)


def _complete_form(page: str, task_id: int) -> str:
    found = re.search(
        rf'<form method="post" action="/tasks/{task_id}/complete">.*?</form>', page, re.S
    )
    assert found, task_id
    return found.group(0)


async def test_the_board_shows_each_kind_apart_with_its_overdue_count(
    lead: Browser, routing: FakeUpstream
) -> None:
    late_call = follow_up_call(resolved_days_ago=31, id=11)  # past its 30 days
    assert late_call["overdue"] is True
    _by_kind(
        routing,
        task(),
        follow_up_call(),
        late_call,
        follow_up_call(id=10, resolved_days_ago=3),  # its window opens in 12 days
        unreachable_task(overdue=True, due_at=iso(datetime.now(UTC) - timedelta(hours=1))),
        overdue={"follow_up_call": 1, "customer_unreachable": 1},
    )
    page = (await lead.page("/board")).text
    calls = routing.requests("GET", "/v1/tasks")
    assert sorted(dict(c.params)["kind"] for c in calls) == [
        "customer_unreachable",
        "follow_up_call",
        "review_reopen",
    ]
    assert all(("status", "open") in c.params and ("team", "billing") in c.params for c in calls)
    assert all(lead.sent(c) for c in calls)

    reviews = _section(page, "review_reopen")
    assert "复核任务" in reviews
    assert "重开复核" in reviews
    assert "个已逾期" not in reviews  # none overdue: no count
    assert "已逾期" not in reviews

    follow_ups = _section(page, "follow_up_call")
    assert "待回访" in follow_ups
    assert '<span class="count">2</span>' in follow_ups  # workable now; the third later
    assert '<span class="badge overdue">1 个已逾期</span>' in follow_ups
    assert follow_ups.count('<span class="badge overdue">已逾期</span>') == 1  # task 11
    assert 'class="task task-overdue" id="task-11"' in follow_ups
    assert "P1/P2 工单解决后的回访" in follow_ups  # the reason, in words
    assert "尚未到可处理时间（1）" in follow_ups
    assert 'action="/tasks/8/complete"' in follow_ups
    assert 'action="/tasks/10/assign"' in follow_ups  # the lead may take it already
    assert 'action="/tasks/10/complete"' not in follow_ups  # but not complete it yet
    assert re.search(r'id="task-later-10">\d{4}年\d+月\d+日 \d\d:\d\d 前暂不可完成<', follow_ups)

    unreachable = _section(page, "customer_unreachable")
    assert "客户无法联系" in unreachable
    assert "1 个已逾期" in unreachable
    assert '<span class="badge overdue">已逾期</span>' in unreachable
    assert "所有渠道都无法联系到客户" in unreachable


async def test_the_board_in_english(lead: Browser, routing: FakeUpstream) -> None:
    _by_kind(routing, follow_up_call(overdue=True), overdue={"follow_up_call": 3})
    await lead.post("/language", {"language": "en", "next": "/board"}, from_page="/board")
    page = (await lead.page("/board")).text
    for shown in ("Follow-up calls due", "3 overdue", ">Overdue<", "Reviews", "Unreachable"):
        assert shown in page, shown
    assert "Customer satisfaction (CSAT, optional)" in page


async def test_each_kind_s_form_offers_its_own_outcomes_and_only_a_call_a_csat(
    lead: Browser, routing: FakeUpstream
) -> None:
    _by_kind(routing, task(), follow_up_call(), unreachable_task(), overdue={})
    page = (await lead.page("/board")).text
    review, call, unreachable = (_complete_form(page, n) for n in (5, 8, 9))

    def outcomes(form: str) -> list[str]:
        return re.findall(r'<option value="([a-z_]+)"', form.split('name="csat"')[0])

    assert outcomes(review) == ["confirmed_fix", "reassigned", "coached", "no_action"]
    assert outcomes(call) == ["reached", "not_reached", "new_issue_raised"]
    assert outcomes(unreachable) == ["contacted", "not_reached"]
    for form, kind in ((review, "review_reopen"), (call, "follow_up_call")):
        assert f'<input type="hidden" name="kind" value="{kind}">' in form
    assert 'name="csat"' not in review
    assert 'name="csat"' not in unreachable
    assert '<label for="task-8-csat">客户满意度（可选）</label>' in call
    assert re.findall(r'<option value="(\d)"', call) == ["1", "2", "3", "4", "5"]
    assert "5 · 非常满意" in call
    assert 'data-csat-outcomes="new_issue_raised reached"' in call
    for word in ("已联系上客户", "未能联系上客户", "客户提出了新问题", "已通过其他方式联系上客户"):
        assert word in page, word


async def test_a_follow_up_call_is_completed_with_the_customer_s_csat(
    lead: Browser, routing: FakeUpstream
) -> None:
    response = await lead.post(
        "/tasks/8/complete",
        {
            "kind": "follow_up_call",
            "outcome": "reached",
            "csat": "4",
            "note": " 客户满意 ",
            "complaint_id": CASE_ID,
            "return_to": BOARD,
        },
        from_page="/board",
    )
    assert response.status_code == 303
    call = routing.requests("POST", "/v1/tasks/8/complete")[-1]
    assert call.body == {"outcome": "reached", "note": "客户满意", "csat": 4}
    assert lead.sent(call)
    for kind, outcome in (("follow_up_call", "not_reached"), ("customer_unreachable", "contacted")):
        response = await lead.post(
            "/tasks/9/complete",
            {"kind": kind, "outcome": outcome, "csat": "", "return_to": BOARD},
            from_page="/board",
        )
        assert response.status_code == 303
        assert routing.requests("POST", "/v1/tasks/9/complete")[-1].body == {"outcome": outcome}


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        ({"outcome": "not_reached", "csat": "3"}, "csat", "只有联系上客户时才记录满意度。"),
        ({"outcome": "reached", "csat": "9"}, "csat", "请选择 1 到 5 的评分。"),
        ({"outcome": "reached", "csat": "很好"}, "csat", "请选择 1 到 5 的评分。"),
        ({"outcome": "coached"}, "outcome", "请从列表中选择。"),
    ],
)
async def test_a_follow_up_completion_the_console_refuses_is_never_sent(
    lead: Browser, routing: FakeUpstream, form: dict[str, str], field: str, error: str
) -> None:
    _by_kind(routing, follow_up_call(), overdue={})
    sent = {**form, "kind": "follow_up_call", "complaint_id": CASE_ID, "return_to": BOARD}
    response = await lead.post("/tasks/8/complete", sent, from_page="/board")
    assert response.status_code == 422
    assert '<details class="task-complete" id="task-complete-8" open>' in response.text
    assert f'id="task-8-{field}-error"' in response.text
    assert error in response.text
    if field == "csat":
        assert 'aria-describedby="task-8-csat-hint task-8-csat-error" aria-invalid="true"' in (
            response.text
        )
        assert f'<option value="{form["outcome"]}" selected>' in response.text
    assert not routing.requests("POST", "/v1/tasks/8/complete")


async def test_routing_s_refusals_of_a_follow_up_call_are_shown_on_it(
    lead: Browser, routing: FakeUpstream
) -> None:
    _by_kind(routing, follow_up_call(), overdue={})
    refusals = [
        (409, problem(409, "task-not-available", "Task 8 can be completed from ...")),
        (
            422,
            problem(
                422,
                "validation",
                "1 field(s) failed validation.",
                errors=[{"field": "csat", "code": "less_than_equal", "detail": "<= 5"}],
            ),
        ),
    ]
    shown = ["此任务尚未到可完成的时间，未做任何更改。", "超出允许的范围。"]
    for (status, answer), text in zip(refusals, shown, strict=True):
        routing.answer("POST", r"/v1/tasks/8/complete", status, answer)
        response = await lead.post(
            "/tasks/8/complete",
            {"kind": "follow_up_call", "outcome": "reached", "csat": "5", "return_to": BOARD},
            from_page="/board",
        )
        assert response.status_code == status
        assert text in response.text
        assert "Task 8 can be completed from" not in response.text  # the page shows when
        assert '<option value="5" selected>' in response.text


async def test_the_case_page_lists_each_task_s_kind_window_and_csat(
    agent: Browser, routing: FakeUpstream
) -> None:
    now = datetime.now(UTC)
    tasks = [
        task(status="done", outcome="confirmed_fix", completed_at=iso(now - timedelta(days=20))),
        follow_up_call(
            id=7,
            status="done",
            outcome="new_issue_raised",
            csat=2,
            note="客户又提到了配送问题",
            completed_by="agent-billing",
            completed_at=iso(now - timedelta(hours=1)),
        ),
        follow_up_call(resolved_days_ago=3),  # the agent's, not workable yet
        unreachable_task(overdue=True),
    ]
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(tasks=tasks))
    page = (await agent.page(PAGE)).text
    items = dict(re.findall(r'<li class="task[^"]*" id="task-(\d+)">(.*?)</li>', page, re.S))
    assert "重开复核" in items["5"]
    assert "已确认解决" in items["5"]
    assert "满意度" not in items["5"]
    assert "回访" in items["7"]
    assert "已完成" in items["7"]
    assert "客户提出了新问题" in items["7"]
    assert "满意度 2/5" in items["7"]
    assert "客户又提到了配送问题" in items["7"]
    assert "完成于" in items["7"]
    assert "待办" in items["8"]
    assert "起可处理" in items["8"]  # its window
    assert "截止" in items["8"]  # and its due time
    assert "前暂不可完成" in items["8"]  # instead of the complete button
    assert 'action="/tasks/8/complete"' not in page
    assert "客户无法联系" in items["9"]
    assert '<span class="badge overdue">已逾期</span>' in items["9"]
    assert 'action="/tasks/9/' not in page  # the lead's, not the agent's


async def test_the_agent_completes_their_follow_up_call_once_its_window_opened(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(tasks=[follow_up_call()]))
    page = (await agent.page(PAGE)).text
    form = _complete_form(page, 8)
    assert 'name="csat"' in form
    assert "前暂不可完成" not in page
    response = await agent.post(
        "/tasks/8/complete",
        {"kind": "follow_up_call", "outcome": "reached", "csat": "5", "complaint_id": CASE_ID,
         "return_to": PAGE},
        from_page=PAGE,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    assert routing.requests("POST", "/v1/tasks/8/complete")[-1].body == {
        "outcome": "reached",
        "csat": 5,
    }


async def test_history_labels_for_the_tasks_and_a_customer_nobody_reached(
    agent: Browser, routing: FakeUpstream
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=30)

    def entry(action: str, **detail: Any) -> dict[str, Any]:
        status = "closed" if action == "closed" else "resolved"
        return {"actor": "routing", "action": action, "from_status": "awaiting_confirmation",
                "to_status": status, "event_id": None, "detail": detail, "at": iso(at)}  # fmt: skip

    actions = [
        entry("task_created", task_id=8, kind="follow_up_call"),
        entry("task_rescheduled", task_id=8, kind="follow_up_call"),
        entry("task_completed", task_id=9, kind="customer_unreachable", outcome="not_reached"),
        entry("closed", reason="auto_closed", not_reached=True),
    ]
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(actions=actions))
    page = (await agent.page(PAGE)).text
    assert '<span class="event-what">创建任务</span> · 回访' in page
    assert '<span class="event-what">任务已改期</span> · 回访' in page
    assert '<span class="event-what">任务已完成</span> · 客户无法联系 · 未能联系上客户' in page
    assert '<span class="event-what">客户始终无法联系</span> → 已关闭' in page
