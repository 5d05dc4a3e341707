"""The case page and its actions: the three zones, each action posted to routing with the
user's token and the page's case version (If-Match), routing's refusals shown in place
(fields marked, a state's refusal, what changed under a stale form), the not-found,
forbidden and unavailable pages, and nothing applied without the CSRF token."""

from __future__ import annotations

import re

import pytest
from console_support import (
    CASE_ID,
    MANAGER,
    Browser,
    FakeUpstream,
    NewBrowser,
    case_file,
    problem,
)

PAGE = f"/cases/{CASE_ID}"


def _zone(html: str, css_class: str) -> str:
    found = re.search(rf'<(section|aside) class="{css_class}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, css_class
    return found.group(2)


async def test_the_page_has_conversation_properties_and_composer(
    agent: Browser, routing: FakeUpstream
) -> None:
    page = await agent.page(PAGE)
    assert page.status_code == 200
    assert agent.sent(routing.requests("GET", f"/v1/cases/{CASE_ID}")[-1])
    conversation = _zone(page.text, "conversation")
    assert "我10月28日申请的退款到现在还没到账" in conversation  # the description first
    assert conversation.index("投诉内容") < conversation.index("您好，我们正在核实退款")
    assert "请尽快处理！" in conversation
    assert 'class="entry entry-note"' in conversation
    assert "仅内部可见，不会发送给客户" in conversation
    assert 'class="entry entry-system"' in conversation  # history in grey
    assert "已升级" in conversation  # the escalation, a system event
    properties = _zone(page.text, "properties")
    for shown in (
        "账单退款",  # category
        "category.billing_refund.keyword",  # the rule that fired
        "黄色（不满）",  # emotion
        "agent-billing",  # assignee and owner
        "升级级别",
        "解决",  # the resolution clock
        "剩余 20分",
        "sla sla-danger",  # 90 % warned
        "已达成",  # the first-response clock was met
        "C-20261101-000007",  # an earlier complaint
        "138****5678",
    ):
        assert shown in properties, shown
    composer = _zone(page.text, "composer")
    assert 'role="tab"' in composer
    for tab in ("回复", "向客户提问", "内部备注"):
        assert tab in composer
    assert "退款进度" in composer  # a canned reply
    assert 'name="version" value="7"' in composer


async def test_a_case_assigned_offers_the_first_response(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(status="assigned"))
    page = await agent.page(PAGE)
    assert f'action="/cases/{CASE_ID}/first-response"' in page.text
    assert "发送首次响应" in page.text
    assert f'action="/cases/{CASE_ID}/resolve"' not in page.text  # not in this state


async def test_a_case_of_another_agent_offers_no_action(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(assignee="agent-other"))
    page = await agent.page(PAGE)
    assert "/replies" not in page.text
    assert "/resolve" not in page.text
    assert "/notes" in page.text  # any staff member who sees the case may note


async def test_leads_and_managers_can_recategorise(browser: NewBrowser) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    page = await manager.page(PAGE)
    assert f'action="/cases/{CASE_ID}/recategorize"' in page.text
    assert '<option value="agent-billing-2">' in page.text  # transfer to an agent


async def test_a_reply_goes_to_routing_with_the_user_s_token_and_version(
    agent: Browser, routing: FakeUpstream
) -> None:
    response = await agent.post(
        f"{PAGE}/replies",
        {"message": "  已为您加急处理。 ", "version": "7", "in_reply_to": "msg-1"},
        from_page=PAGE,
    )
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/replies")[-1]
    assert agent.sent(call)
    assert call.headers["if-match"] == '"7"'
    assert call.body == {"message": "已为您加急处理。", "in_reply_to": "msg-1"}
    assert "回复已发送。" in (await agent.page(PAGE)).text  # the result, once


@pytest.mark.parametrize(
    ("path", "form", "command", "body"),
    [
        ("first-response", {"message": "您好"}, "first-response", {"message": "您好"}),
        (
            "questions",
            {"reason": "请提供订单截图"},
            "awaiting-customer",
            {"reason": "请提供订单截图"},
        ),
        ("resume", {}, "resume", None),
        ("notes", {"text": "已联系财务"}, "notes", {"text": "已联系财务"}),
        (
            "resolve",
            {
                "solution_summary": "已退款",
                "solution_type": "refund",
                "root_cause": "退款批次延迟",
                "preventive_measure": "",
            },
            "resolve",
            {"solution_summary": "已退款", "solution_type": "refund", "root_cause": "退款批次延迟"},
        ),
        (
            "transfer",
            {"team": "quality", "assignee": "", "reason": "质量问题"},
            "transfer",
            {"team": "quality", "reason": "质量问题"},
        ),
        (
            "recategorize",
            {"category": "", "subcategory": "", "priority": "P1", "reason": "涉及安全"},
            "recategorize",
            {"priority": "P1", "reason": "涉及安全"},
        ),
    ],
)
async def test_each_action_posts_to_routing(
    agent: Browser,
    routing: FakeUpstream,
    path: str,
    form: dict[str, str],
    command: str,
    body: dict[str, str] | None,
) -> None:
    response = await agent.post(f"{PAGE}/{path}", {**form, "version": "7"}, from_page=PAGE)
    assert response.status_code == 303, response.text
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/{command}")[-1]
    assert agent.sent(call)
    assert call.headers["if-match"] == '"7"'
    assert call.body == body


async def test_a_transfer_from_the_board_goes_back_to_the_board(
    agent: Browser, routing: FakeUpstream
) -> None:
    response = await agent.post(
        f"{PAGE}/transfer",
        {"assignee": "agent-billing-2", "reason": "x", "return_to": "/board?team=billing"},
        from_page=PAGE,
    )
    assert response.headers["location"] == "/board?team=billing"
    assert "if-match" not in routing.requests("POST", f"/v1/cases/{CASE_ID}/transfer")[-1].headers


@pytest.mark.parametrize(
    ("message", "error"),
    [("", "此项必填。"), ("   ", "此项必填。"), ("长" * 20_000, "最多 2000 个字符。")],
)
async def test_an_empty_or_overlong_reply_is_a_form_error_and_nothing_is_sent(
    agent: Browser, routing: FakeUpstream, message: str, error: str
) -> None:
    response = await agent.post(f"{PAGE}/replies", {"message": message}, from_page=PAGE)
    assert response.status_code == 422
    assert error in response.text
    assert 'id="reply-message" name="message"' in response.text
    assert 'aria-invalid="true" aria-describedby="reply-message-error"' in response.text
    assert not routing.requests("POST", f"/v1/cases/{CASE_ID}/replies")


async def test_a_resolve_without_root_cause_marks_the_field(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer(
        "POST",
        rf"/v1/cases/{CASE_ID}/resolve",
        422,
        problem(
            422,
            "closure-guard",
            "A case cannot be resolved without solution summary, solution type and root cause.",
            errors=[
                {
                    "in": "body",
                    "field": "root_cause",
                    "pointer": "/root_cause",
                    "code": "missing",
                    "detail": "root_cause is required to resolve a case",
                }
            ],
        ),
    )
    response = await agent.post(
        f"{PAGE}/resolve",
        {"solution_summary": "已退款", "solution_type": "refund", "root_cause": ""},
        from_page=PAGE,
    )
    assert response.status_code == 422
    text = response.text
    assert '<details class="action-form" id="resolve" open>' in text
    assert 'aria-invalid="true" aria-describedby="resolve-root_cause-error"' in text
    assert 'id="resolve-root_cause-error"' in text
    assert "此项必填。" in text
    assert ">已退款</textarea>" in text  # what the agent wrote is kept
    assert '<option value="refund" selected>' in text


async def test_an_action_illegal_in_the_state_shows_routing_s_reason_in_place(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer(
        "POST",
        rf"/v1/cases/{CASE_ID}/replies",
        409,
        problem(
            409,
            "illegal-transition",
            "RecordReply is not allowed in state resolved (only in in_progress)",
            state="resolved",
            command="RecordReply",
        ),
    )
    response = await agent.post(f"{PAGE}/replies", {"message": "好的"}, from_page=PAGE)
    assert response.status_code == 409
    assert "工单当前状态不允许此操作。" in response.text
    assert "RecordReply is not allowed in state resolved" in response.text
    assert ">好的</textarea>" in response.text


async def test_a_stale_form_shows_what_changed_instead_of_overwriting(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer(
        "POST",
        rf"/v1/cases/{CASE_ID}/replies",
        409,
        problem(
            409,
            "stale-case",
            "The case is at version 8, the request was made on version 7",
            current_version=8,
            expected_version=7,
            changes=[
                {
                    "action": "reassigned",
                    "actor": "lead-billing",
                    "at": "2026-12-06T05:30:00+00:00",
                    "version": 8,
                }
            ],
        ),
    )
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(version=8))
    response = await agent.post(
        f"{PAGE}/replies", {"message": "我的草稿", "version": "7"}, from_page=PAGE
    )
    assert response.status_code == 409
    text = response.text
    assert "您打开页面后，此工单已被更新" in text
    assert "已转派 — lead-billing" in text
    assert "2026年12月6日 13:30" in text  # in Asia/Shanghai
    assert ">我的草稿</textarea>" in text
    assert 'name="version" value="8"' in text  # sent again, it applies to what is there now


async def test_a_forged_csrf_token_is_refused_and_nothing_is_applied(
    agent: Browser, routing: FakeUpstream
) -> None:
    for token in ("forged", ""):
        response = await agent.http.post(
            f"{PAGE}/resolve",
            data={"solution_summary": "x", "solution_type": "refund", "root_cause": "y",
                  "csrf_token": token},
        )  # fmt: skip
        assert response.status_code == 403
        assert "表单已失效" in response.text
    assert not [s for s in routing.seen if s.method == "POST"]


async def test_the_csrf_token_may_come_in_htmx_s_header(
    agent: Browser, routing: FakeUpstream
) -> None:
    csrf = await agent.csrf(PAGE)
    response = await agent.http.post(
        f"{PAGE}/notes", data={"text": "via htmx"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 303
    assert routing.requests("POST", f"/v1/cases/{CASE_ID}/notes")


async def test_an_unknown_case_or_one_of_another_team_is_not_found(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 404, problem(404, "not-found", "No such case."))
    page = await agent.page(PAGE)
    assert page.status_code == 404
    assert "未找到" in page.text
    assert "返回我的队列" in page.text
    assert (await agent.page("/cases/not-a-case-id")).status_code == 404
    assert not routing.requests("GET", "/v1/cases/not-a-case-id")


async def test_routing_down_is_a_clear_try_again_page(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.down = True
    for path in (PAGE, "/", "/team"):
        page = await agent.page(path)
        assert page.status_code == 503, path
        assert "服务暂不可用" in page.text
        assert "重试" in page.text
        assert page.headers["retry-after"]


async def test_routing_failing_with_a_500_is_a_503_page_too(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 500, {"title": "Internal error"})
    assert (await agent.page(PAGE)).status_code == 503


async def test_an_action_while_routing_is_down_applies_nothing_and_says_so(
    agent: Browser, routing: FakeUpstream
) -> None:
    csrf = await agent.csrf(PAGE)
    routing.down = True
    response = await agent.http.post(
        f"{PAGE}/replies", data={"message": "hello", "csrf_token": csrf}
    )
    assert response.status_code == 503
    assert "未做任何更改" in response.text


async def test_a_token_routing_no_longer_accepts_sends_the_user_to_sign_in(
    agent: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 401, problem(401, "unauthorized", "expired"))
    page = await agent.page(PAGE)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=")
    htmx = await agent.page(PAGE, headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["hx-redirect"].startswith("/signin")


async def test_the_page_asks_whether_the_case_changed_on_live_events(
    agent: Browser, routing: FakeUpstream
) -> None:
    page = await agent.page(PAGE)
    assert f'sse-connect="/live/stream?case={CASE_ID}"' in page.text
    unchanged = await agent.page(f"{PAGE}/freshness?version=7", headers={"HX-Request": "true"})
    assert "此工单已被更新" not in unchanged.text
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(version=9))
    changed = await agent.page(f"{PAGE}/freshness?version=7", headers={"HX-Request": "true"})
    assert "此工单已被更新" in changed.text
