"""The case page's tools beside the state machine: a lead's escalation request (202, the
level changes later), linking a copy to its original by reference or id and undoing it,
and revealing the customer's contact in a fragment that is never stored or cached. Each
is posted to routing with the user's token (and the page's version where it changes the
case); routing's refusals are form errors in place; agents see neither escalation nor the
reveal; nothing is applied without the CSRF token."""

from __future__ import annotations

import logging

import pytest
from console_support import (
    CASE_ID,
    MANAGER,
    OPENAPI,
    OTHER_CASE_ID,
    Browser,
    FakeUpstream,
    NewBrowser,
    case_file,
    case_row,
    problem,
)
from sqlalchemy import text

PAGE = f"/cases/{CASE_ID}"
CONTACT = {
    "name": "张伟",
    "email": "zhang.wei@example.com",
    "phone": "+8613812345678",
    "preferred_channel": "sms",
}
HTMX = {"HX-Request": "true"}


def _original(**overrides: object) -> dict[str, object]:
    return {
        "complaint_id": OTHER_CASE_ID,
        "reference": "C-20261101-000007",
        "status": "in_progress",
        "category": "billing_refund",
        "received_at": "2026-11-01T02:00:00+00:00",
    } | overrides


# ---- escalation


async def test_a_lead_escalates_with_the_case_version(lead: Browser, routing: FakeUpstream) -> None:
    routing.answer("POST", rf"/v1/cases/{CASE_ID}/escalate", 202, {"status": "accepted"})
    page = await lead.page(PAGE)
    assert f'action="{PAGE}/escalate"' in page.text
    # the case is at level 1: only higher levels are offered
    assert '<option value="1"' not in page.text
    assert '<option value="2">' in page.text
    assert '<option value="3">' in page.text
    form = {"level": "2", "reason": " 客户投诉升级 ", "version": "7"}
    response = await lead.post(f"{PAGE}/escalate", form, from_page=PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/escalate")[-1]
    assert lead.sent(call)
    assert call.headers["if-match"] == '"7"'
    assert call.body == {"level": 2, "reason": "客户投诉升级"}
    assert "已申请升级" in (await lead.page(PAGE)).text  # the notice, once


async def test_agents_are_not_offered_escalation_or_the_contact(agent: Browser) -> None:
    page = (await agent.page(PAGE)).text
    assert "/escalate" not in page
    assert "/contact/reveal" not in page
    assert f'action="{PAGE}/duplicate-of"' in page  # the assignee may link a copy


async def test_another_team_s_lead_assigned_the_case_gets_no_lead_tools(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    # routing: only a lead of the case's team (or a manager) escalates or reveals, and only
    # an agent or lead of the case's team (or a manager) links; the assignee rule is none
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(assignee="lead-quality"))
    outsider = await browser()
    await outsider.sign_in_as({"subject": "lead-quality", "roles": ("lead",), "team": "quality"})
    page = (await outsider.page(PAGE)).text
    assert "/escalate" not in page
    assert "/contact/reveal" not in page
    assert "/duplicate-of" not in page


async def test_an_agent_of_the_team_not_assigned_may_link_a_copy(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(assignee="someone-else"))
    colleague = await browser()
    await colleague.sign_in_as({"subject": "agent-2", "roles": ("agent",), "team": "billing"})
    page = (await colleague.page(PAGE)).text
    assert f'action="{PAGE}/duplicate-of"' in page
    assert "/escalate" not in page
    assert "/contact/reveal" not in page


async def test_a_case_at_the_top_of_the_ladder_offers_no_escalation(
    lead: Browser, routing: FakeUpstream
) -> None:
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(escalation_level=3))
    assert "/escalate" not in (await lead.page(PAGE)).text


async def test_a_routing_without_the_tools_offers_none_of_them(
    lead: Browser, routing: FakeUpstream
) -> None:
    paths = {
        path: ops
        for path, ops in OPENAPI["paths"].items()
        if not path.endswith(("escalate", "duplicate-of", "unlink", "reveal"))
    }
    routing.answer("GET", "/openapi.json", 200, {"paths": paths})
    page = (await lead.page(PAGE)).text
    for tool in ("/escalate", "/duplicate-of", "/contact/reveal"):
        assert tool not in page, tool


@pytest.mark.parametrize(
    ("status", "answer", "shown"),
    [
        (403, problem(403, "forbidden", "Only the team's lead may escalate."), "您无权"),
        (
            409,
            problem(409, "level-not-raised", "The case is already at level 2.", current_level=2),
            "The case is already at level 2.",
        ),
        (
            422,
            problem(
                422,
                "validation",
                "Invalid body",
                errors=[{"field": "reason", "code": "string_too_long", "detail": "too long"}],
            ),
            'aria-describedby="escalate-reason-error"',
        ),
        (404, problem(404, "not-found", "No such escalation target."), "工单服务未找到"),
    ],
)
async def test_routing_s_refusals_of_an_escalation_are_form_errors(
    lead: Browser, routing: FakeUpstream, status: int, answer: dict[str, object], shown: str
) -> None:
    routing.answer("POST", rf"/v1/cases/{CASE_ID}/escalate", status, answer)
    response = await lead.post(
        f"{PAGE}/escalate", {"level": "3", "reason": "请经理介入"}, from_page=PAGE
    )
    assert response.status_code == status
    assert '<details class="action-form" id="escalate" open>' in response.text
    assert shown in response.text
    assert ">请经理介入</textarea>" in response.text  # what the lead wrote is kept
    assert '<option value="3" selected>' in response.text


async def test_a_stale_escalation_shows_what_changed(lead: Browser, routing: FakeUpstream) -> None:
    routing.answer(
        "POST",
        rf"/v1/cases/{CASE_ID}/escalate",
        409,
        problem(
            409,
            "stale-case",
            "The case is at version 8",
            current_version=8,
            changes=[{"action": "reassigned", "actor": "lead-billing", "at": None, "version": 8}],
        ),
    )
    response = await lead.post(
        f"{PAGE}/escalate", {"level": "2", "reason": "x", "version": "7"}, from_page=PAGE
    )
    assert response.status_code == 409
    assert "您打开页面后，此工单已被更新" in response.text
    assert "已转派 — lead-billing" in response.text


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"level": "2", "reason": ""}, "此项必填。"),
        ({"level": "7", "reason": "x"}, "请从列表中选择"),
    ],
)
async def test_an_escalation_the_console_refuses_is_never_sent(
    lead: Browser, routing: FakeUpstream, form: dict[str, str], error: str
) -> None:
    response = await lead.post(f"{PAGE}/escalate", form, from_page=PAGE)
    assert response.status_code == 422
    assert error in response.text
    assert not routing.requests("POST", f"/v1/cases/{CASE_ID}/escalate")


# ---- duplicates


async def test_a_copy_is_linked_to_its_original_by_id(lead: Browser, routing: FakeUpstream) -> None:
    routing.answer("POST", rf"/v1/cases/{CASE_ID}/duplicate-of", 201, case_file())
    response = await lead.post(
        f"{PAGE}/duplicate-of",
        {"original": OTHER_CASE_ID.upper(), "reason": "同一客户重复提交", "version": "7"},
        from_page=PAGE,
    )
    assert response.status_code == 303
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of")[-1]
    assert call.body == {"original_id": OTHER_CASE_ID, "reason": "同一客户重复提交"}
    assert call.headers["if-match"] == '"7"'
    assert lead.sent(call)
    assert "已关联为重复工单" in (await lead.page(PAGE)).text


async def test_a_reference_is_looked_up_among_the_cases_the_user_sees(
    agent: Browser, routing: FakeUpstream
) -> None:
    found = case_row(complaint_id=OTHER_CASE_ID, reference="C-20261101-000007")
    routing.answer("GET", "/v1/cases", 200, {"items": [case_row(), found], "next": None})
    response = await agent.post(
        f"{PAGE}/duplicate-of",
        {"original": " c-20261101-000007 ", "reason": "重复"},
        from_page=PAGE,
    )
    assert response.status_code == 303
    search = routing.requests("GET", "/v1/cases")[-1]
    assert ("q", "c-20261101-000007") in search.params
    assert agent.sent(search)
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of")[-1]
    assert call.body == {"original_id": OTHER_CASE_ID, "reason": "重复"}


@pytest.mark.parametrize(
    ("original", "error"),
    [
        ("C-20991231-000001", "找不到此编号的工单"),  # routing's search finds no such case
        (CASE_ID, "工单不能是自身的重复工单"),
        ("not a reference!", "格式不正确"),
        ("", "此项必填"),
    ],
)
async def test_an_original_that_cannot_be_used_is_a_form_error(
    lead: Browser, routing: FakeUpstream, original: str, error: str
) -> None:
    routing.answer("GET", "/v1/cases", 200, {"items": [case_row()], "next": None})
    response = await lead.post(
        f"{PAGE}/duplicate-of", {"original": original, "reason": "重复"}, from_page=PAGE
    )
    assert response.status_code == 422
    assert '<details class="action-form" id="duplicate" open>' in response.text
    assert error in response.text
    assert 'aria-describedby="duplicate-original-error"' in response.text
    assert not routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of")


async def test_a_link_without_original_or_reason_marks_both(
    lead: Browser, routing: FakeUpstream
) -> None:
    response = await lead.post(
        f"{PAGE}/duplicate-of", {"original": "", "reason": ""}, from_page=PAGE
    )
    assert response.status_code == 422
    assert 'id="duplicate-original-error"' in response.text
    assert 'id="duplicate-reason-error"' in response.text
    assert not routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of")


async def test_routing_s_refusal_of_a_link_is_shown_in_place(
    lead: Browser, routing: FakeUpstream
) -> None:
    routing.answer(
        "POST",
        rf"/v1/cases/{CASE_ID}/duplicate-of",
        409,
        problem(409, "duplicate-chain", "The original is itself a duplicate."),
    )
    response = await lead.post(
        f"{PAGE}/duplicate-of", {"original": OTHER_CASE_ID, "reason": "重复"}, from_page=PAGE
    )
    assert response.status_code == 409
    assert "工单当前状态不允许此操作。" in response.text
    assert "The original is itself a duplicate." in response.text


async def test_a_link_reason_may_be_as_long_as_routing_takes(
    lead: Browser, routing: FakeUpstream
) -> None:
    page = (await lead.page(PAGE)).text
    assert 'id="duplicate-reason" name="reason" rows="2" maxlength="2000"' in page
    long = "重" * 2000
    form = {"original": OTHER_CASE_ID, "reason": long, "version": "7"}
    response = await lead.post(f"{PAGE}/duplicate-of", form, from_page=PAGE)
    assert response.status_code == 303, response.text
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of")[-1]
    assert call.body == {"original_id": OTHER_CASE_ID, "reason": long}
    too_long = {**form, "reason": long + "重"}
    refused = await lead.post(f"{PAGE}/duplicate-of", too_long, from_page=PAGE)
    assert refused.status_code == 422
    assert len(routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of")) == 1


async def test_a_duplicate_still_open_offers_the_unlink(
    lead: Browser, routing: FakeUpstream
) -> None:
    duplicates = {"duplicate_of": _original(), "copies": [], "repeat_count": 0}
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, case_file(duplicates=duplicates))
    page = (await lead.page(PAGE)).text
    assert f'action="{PAGE}/duplicate-of/unlink"' in page
    assert f'action="{PAGE}/duplicate-of"' not in page  # linked already
    assert "此工单目前是 C-20261101-000007 的重复工单" in page
    response = await lead.post(
        f"{PAGE}/duplicate-of/unlink", {"reason": "并非同一问题", "version": "7"}, from_page=PAGE
    )
    assert response.status_code == 303
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/duplicate-of/unlink")[-1]
    assert call.body == {"reason": "并非同一问题"}
    assert call.headers["if-match"] == '"7"'
    assert "已取消重复关联" in (await lead.page(PAGE)).text


async def test_no_unlink_for_a_case_that_is_no_duplicate_or_is_closed(
    lead: Browser, routing: FakeUpstream
) -> None:
    assert "/duplicate-of/unlink" not in (await lead.page(PAGE)).text
    duplicates = {"duplicate_of": _original(), "copies": [], "repeat_count": 0}
    closed = case_file(status="closed", duplicates=duplicates)
    routing.answer("GET", f"/v1/cases/{CASE_ID}", 200, closed)
    assert "/duplicate-of/unlink" not in (await lead.page(PAGE)).text


# ---- the contact reveal


async def test_a_lead_reveals_the_contact_in_a_fragment_never_kept(
    lead: Browser, routing: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    routing.answer("POST", rf"/v1/cases/{CASE_ID}/contact/reveal", 200, CONTACT)
    page = await lead.page(PAGE)
    assert 'hx-post="' + PAGE + '/contact/reveal" hx-target="#contact-reveal"' in page.text
    csrf = await lead.csrf(PAGE)
    with caplog.at_level(logging.DEBUG):
        response = await lead.http.post(
            f"{PAGE}/contact/reveal",
            data={"reason": "客户要求电话回访"},
            headers={**HTMX, "X-CSRF-Token": csrf},
        )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    fragment = response.text
    assert fragment.lstrip().startswith('<div id="contact-reveal"')
    for value in ("张伟", "zhang.wei@example.com", "+8613812345678", "短信"):
        assert value in fragment, value
    call = routing.requests("POST", f"/v1/cases/{CASE_ID}/contact/reveal")[-1]
    assert call.body == {"reason": "客户要求电话回访"}
    assert lead.sent(call)
    assert "if-match" not in call.headers  # it changes nothing of the case
    assert "13812345678" not in caplog.text
    assert "zhang.wei" not in caplog.text
    async with lead.deps.database.sessions() as session:  # no table holds it
        for table in ("case_changes", "live_cases", "case_presence", "outbox_messages"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert "13812345678" not in repr(rows), table
    assert "13812345678" not in (await lead.page(PAGE)).text  # shown once, not kept


async def test_without_htmx_the_reveal_draws_the_whole_page(
    browser: NewBrowser, routing: FakeUpstream
) -> None:
    manager = await browser()
    await manager.sign_in_as(MANAGER)
    routing.answer("POST", rf"/v1/cases/{CASE_ID}/contact/reveal", 200, CONTACT | {"name": None})
    response = await manager.post(f"{PAGE}/contact/reveal", {"reason": "核实身份"}, from_page=PAGE)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "<html" in response.text
    assert '<details class="action-form" id="reveal" open>' in response.text
    assert "+8613812345678" in response.text


@pytest.mark.parametrize(
    ("status", "answer", "shown"),
    [
        (403, problem(403, "forbidden", "Leads only."), "您无权"),
        (
            422,
            problem(
                422,
                "validation",
                "Invalid body",
                errors=[{"field": "reason", "code": "missing", "detail": "reason is required"}],
            ),
            'aria-describedby="reveal-reason-error"',
        ),
        (409, problem(409, "erased", "The customer's data was erased."), "was erased"),
    ],
)
async def test_a_refused_reveal_is_a_form_error_in_the_fragment(
    lead: Browser, routing: FakeUpstream, status: int, answer: dict[str, object], shown: str
) -> None:
    routing.answer("POST", rf"/v1/cases/{CASE_ID}/contact/reveal", status, answer)
    csrf = await lead.csrf(PAGE)
    response = await lead.http.post(
        f"{PAGE}/contact/reveal", data={"reason": "核实"}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    assert response.text.lstrip().startswith('<div id="contact-reveal"')
    assert shown in response.text
    assert ">核实</textarea>" in response.text


async def test_a_reveal_without_a_reason_is_never_sent(
    lead: Browser, routing: FakeUpstream
) -> None:
    csrf = await lead.csrf(PAGE)
    response = await lead.http.post(
        f"{PAGE}/contact/reveal", data={"reason": "  "}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert response.status_code == 422
    assert "此项必填。" in response.text
    assert not routing.requests("POST", f"/v1/cases/{CASE_ID}/contact/reveal")


@pytest.mark.parametrize(
    "path", ["escalate", "duplicate-of", "duplicate-of/unlink", "contact/reveal"]
)
async def test_no_tool_is_applied_without_the_csrf_token(
    lead: Browser, routing: FakeUpstream, path: str
) -> None:
    for token in ("forged", ""):
        response = await lead.http.post(
            f"{PAGE}/{path}",
            data={"level": "2", "reason": "x", "original": OTHER_CASE_ID, "csrf_token": token},
        )
        assert response.status_code == 403
        assert "表单已失效" in response.text
    assert not [s for s in routing.seen if s.method == "POST"]
