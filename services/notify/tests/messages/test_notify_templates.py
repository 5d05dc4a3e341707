"""Every template renders in both languages from the context notify builds for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import UndefinedError
from notify.messages.domain.planning import TEMPLATES
from notify.messages.domain.template_context import LookedUp, message_context
from notify.messages.rendering import LANGUAGES, TEMPLATE_DIR, Renderer

RENDERER = Renderer()
FIRST_RESPONSE_DUE = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai

STORED: dict[str, dict[str, object]] = {
    "acknowledgement": {"reference": "C-20261123-000042"},
    "assignment": {"team": "billing", "handoff": False, "reason": "team billing owns it"},
    "sla_warning": {
        "metric": "first_response",
        "percent": 75,
        "due_at": "2026-11-23T10:00:00+00:00",
        "priority": "P2",
        "late": False,
    },
    "sla_breach": {
        "metric": "resolution",
        "due_at": "2026-11-23T10:00:00+00:00",
        "priority": "P1",
        "breach_count": 2,
        "late": True,
    },
    "resolution": {
        "solution_summary": "已全额退款",
        "solution_type": "refund",
        "owner": "agent-li",
    },
    "survey_invitation": {
        "request_id": "req-1",
        "reminder": True,
        "expires_at": "2026-11-30T10:00:00+00:00",
    },
    "escalation": {
        "level": 2,
        "previous_level": 1,
        "trigger": "resolution_breach",
        "reason": "resolution clock breached after 3 working days",
        "metric": "resolution",
    },
    "duplicate_notice": {"duplicate_of": "0196f7a2-0000-7000-8000-000000000001"},
    "agent_reply": {
        "message": "退款已重新提交，预计 3 个工作日内到账。",
        "agent_name": "李娜",
        "first": True,
        "at": "2026-11-23T10:00:00+00:00",
    },
    "agent_question": {
        "question": "请提供退款单号。",
        "agent_name": None,
        "at": "2026-11-23T10:00:00+00:00",
    },
    "withdrawal_notice": {"closed_at": "2026-11-23T10:00:00+00:00"},
    "withdrawal_confirmation": {"closed_at": "2026-11-23T10:00:00+00:00"},
    "tracking_code": {"request_id": "req-2", "expires_at": "2026-11-23T10:10:00+00:00"},
    "nps_invitation": {"request_id": "nps-1", "expires_at": "2026-12-15T10:00:00+00:00"},
}


def _context(template: str, language: str, name: str | None = "张伟") -> dict[str, object]:
    return message_context(
        template=template,
        stored=STORED[template],
        looked_up=LookedUp(
            reference="C-20261123-000042",
            recipient_name=name,
            language=language,
            team="billing",
            tracking_url="https://track.example.com/c/abc",
            survey_url="https://survey.example.com/s/xyz",
            survey_expires_at="2026-11-30T10:00:00+00:00",
            opt_out_url="https://survey.example.com/n/xyz#opt-out",
            priority="P2",
            case_url="https://staff.example.com/cases/c-1",
            standing_reference="C-20261120-000007",
            first_response_due_at=FIRST_RESPONSE_DUE,
            resolution_due_at=FIRST_RESPONSE_DUE + timedelta(hours=22),
            timezone="Asia/Shanghai",
            tracking_code="004217",
            code_expires_at=datetime(2026, 11, 23, 10, 10, tzinfo=UTC),
        ),
        zone="Asia/Shanghai",
    )


def test_every_template_exists_in_every_language() -> None:
    for language in LANGUAGES:
        for template in TEMPLATES:
            assert (TEMPLATE_DIR / language / f"{template}.txt").is_file()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_template_renders_subject_and_body(template: str, language: str) -> None:
    message = RENDERER.render(
        template=template, language=language, context=_context(template, language)
    )
    assert message.subject
    assert "\n" not in message.subject
    assert "C-20261123-000042" in message.subject + message.body
    assert message.body.strip()
    assert "{{" not in message.body
    assert "{%" not in message.body


def test_templates_show_what_each_notice_promises() -> None:
    ack = RENDERER.render(
        template="acknowledgement", language="en", context=_context("acknowledgement", "en")
    )
    assert "We will reply by 7 Dec 14:30 and aim to resolve it by 8 Dec 12:30" in ack.body
    assert "https://track.example.com/c/abc" in ack.body
    zh = RENDERER.render(
        template="acknowledgement", language="zh-CN", context=_context("acknowledgement", "zh-CN")
    )
    assert "我们将在 12月7日 14:30 前首次回复您，并力争在 12月8日 12:30 前解决" in zh.body
    code = RENDERER.render(
        template="tracking_code", language="zh-CN", context=_context("tracking_code", "zh-CN")
    )
    assert "验证码：004217" in code.body
    assert "004217" not in code.subject  # lock screens show subjects
    assert "11月23日 18:10 前" in code.body
    resolution = RENDERER.render(
        template="resolution", language="zh-CN", context=_context("resolution", "zh-CN")
    )
    assert "已全额退款" in resolution.body
    assert "退款" in resolution.body
    assert "agent-li" in resolution.body
    survey = RENDERER.render(
        template="survey_invitation", language="en", context=_context("survey_invitation", "en")
    )
    assert survey.subject.startswith("[Reminder]")
    assert "https://survey.example.com/s/xyz" in survey.body
    warning = RENDERER.render(
        template="sla_warning", language="zh-CN", context=_context("sla_warning", "zh-CN")
    )
    assert "75%" in warning.subject
    assert "首次响应" in warning.body
    assert "2026-11-23 18:00" in warning.body


@pytest.mark.parametrize("template", TEMPLATES)
def test_a_missing_variable_is_an_error_not_a_blank(template: str) -> None:
    context = _context(template, "en")
    for key in list(context):
        if key == "language":
            continue
        partial = {k: v for k, v in context.items() if k != key}
        with pytest.raises(UndefinedError):
            RENDERER.render(template=template, language="en", context=partial)


def test_customer_without_a_name_gets_a_generic_greeting() -> None:
    message = RENDERER.render(
        template="acknowledgement",
        language="en",
        context=_context("acknowledgement", "en", name=None),
    )
    assert message.body.startswith("Dear customer,")


def test_unknown_language_falls_back_to_chinese() -> None:
    message = RENDERER.render(
        template="resolution", language="fr", context=_context("resolution", "zh-CN")
    )
    assert "处理完毕" in message.subject


@settings(max_examples=50, deadline=None)
@given(
    template=st.sampled_from(TEMPLATES),
    language=st.sampled_from(LANGUAGES),
    text=st.text(max_size=300),
)
def test_any_text_value_renders_and_never_breaks_the_subject_line(
    template: str, language: str, text: str
) -> None:
    context = _context(template, language)
    context = {
        k: (text if isinstance(v, str) and k != "language" else v) for k, v in context.items()
    }
    message = RENDERER.render(template=template, language=language, context=context)
    assert "\n" not in message.subject
    assert "\r" not in message.subject
    assert len(message.subject) <= 200


def test_an_escalation_names_level_priority_trigger_reason_and_link() -> None:
    en = RENDERER.render(template="escalation", language="en", context=_context("escalation", "en"))
    assert en.subject == "[Escalated to manager] Complaint C-20261123-000042 (P2)"
    assert "level 2 (manager)" in en.body
    assert "Trigger: resolution breach" in en.body
    assert "Reason: resolution clock breached after 3 working days" in en.body
    assert "https://staff.example.com/cases/c-1" in en.body
    assert "team billing" in en.body
    zh = RENDERER.render(
        template="escalation", language="zh-CN", context=_context("escalation", "zh-CN")
    )
    assert "经理" in zh.subject
    assert "P2" in zh.subject
    assert "触发原因：解决超时" in zh.body
    assert "https://staff.example.com/cases/c-1" in zh.body


def test_an_escalation_without_a_configured_link_says_so() -> None:
    context = {**_context("escalation", "en"), "case_url": None}
    message = RENDERER.render(template="escalation", language="en", context=context)
    assert "Open the case: (no link configured)" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_duplicate_notice_tells_which_reference_stands(language: str) -> None:
    message = RENDERER.render(
        template="duplicate_notice",
        language=language,
        context=_context("duplicate_notice", language),
    )
    assert "C-20261123-000042" in message.subject
    assert "C-20261120-000007" in message.subject
    assert message.body.count("C-20261120-000007") >= 2
    assert "https://track.example.com/c/abc" in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_nps_invitation_carries_its_link_and_the_way_out(language: str) -> None:
    message = RENDERER.render(
        template="nps_invitation", language=language, context=_context("nps_invitation", language)
    )
    assert "C-20261123-000042" in message.subject
    assert "https://survey.example.com/s/xyz\n" in message.body  # the page's link
    assert "https://survey.example.com/n/xyz#opt-out" in message.body  # don't ask me again
    assert ("不要再问我" if language == "zh-CN" else "Don't ask me again") in message.body
    assert "0" in message.body
    assert "10" in message.body
