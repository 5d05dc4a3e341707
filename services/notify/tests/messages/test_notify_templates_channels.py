"""Every template's SMS and robot versions: each one declared renders in every language from
the context notify builds for it, SMS stay short, and robot notices never show a contact."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, UndefinedError, meta
from notify.messages.domain.planning import TEMPLATES, TemplateName
from notify.messages.domain.template_channels import (
    CONTACT_FIELDS,
    CUSTOMER_TEMPLATES,
    MAX_SMS_PARAM,
    MISSING_VALUE,
    ROBOT_FIELDS,
    SMS_PARAMETERS,
    STAFF_TEMPLATES,
    channels_of,
    notice_severity,
    sms_params,
)
from notify.messages.domain.template_context import message_context
from notify.messages.rendering import (
    LANGUAGES,
    TEMPLATE_DIR,
    Renderer,
    TemplateMissing,
    template_path,
)
from notify.sms.domain.segments import aliyun_parts, aliyun_too_long, count_segments
from notify.templates_api.domain.samples import (
    SAMPLE_STORED,
    SAMPLE_ZONE,
    sample_context,
    sample_looked_up,
)

RENDERER = Renderer()
SIGN_NAME = "客服中心"  # a realistic Alibaba Cloud sign name: 4 characters, 6 with 【】
# Realistic lengths: intake's tracking link (a 32-character token), and a survey link in
# a short form (feedback's own links are ~310 characters; see the notify README).
TRACKING_URL = "https://complaints.example.com/t/" + "T" * 32
SHORT_SURVEY_URL = "https://fb.example.com/s/" + "S" * 12
VERSIONS = [
    (template, language, channel)
    for template in TEMPLATES
    for language in LANGUAGES
    for channel in channels_of(template)
]
SMS_TEMPLATES = sorted(CUSTOMER_TEMPLATES)
ROBOT_TEMPLATES = sorted(STAFF_TEMPLATES)


def context(template: TemplateName, language: str, **looked_up: Any) -> dict[str, Any]:
    """As the preparer builds it: message_context over stored and looked-up facts."""
    found = replace(
        sample_looked_up(template=template, language=language),
        tracking_url=TRACKING_URL,
        survey_url=SHORT_SURVEY_URL,
        opt_out_url=f"{SHORT_SURVEY_URL}#opt-out",
    )
    return message_context(
        template=template,
        stored=SAMPLE_STORED[template],
        looked_up=replace(found, **looked_up),
        zone=SAMPLE_ZONE,
    )


def test_customer_templates_have_sms_and_staff_templates_robots() -> None:
    assert set(TEMPLATES) == CUSTOMER_TEMPLATES | STAFF_TEMPLATES
    assert not CUSTOMER_TEMPLATES & STAFF_TEMPLATES
    assert set(SMS_PARAMETERS) == CUSTOMER_TEMPLATES
    for template in CUSTOMER_TEMPLATES:
        assert channels_of(template) == ("email", "sms")
    for template in STAFF_TEMPLATES:
        assert channels_of(template) == ("email", "robot")
    assert channels_of("no_such_template") == ()


@pytest.mark.parametrize(("template", "language", "channel"), VERSIONS)
def test_every_declared_version_has_its_file(template: str, language: str, channel: str) -> None:
    path = template_path(template=template, language=language, channel=channel)  # type: ignore[arg-type]
    assert (TEMPLATE_DIR / path).is_file()
    assert RENDERER.languages_of(template=template, channel=channel) == LANGUAGES  # type: ignore[arg-type]


@pytest.mark.parametrize(("template", "language", "channel"), VERSIONS)
def test_every_declared_version_renders(
    template: TemplateName, language: str, channel: str
) -> None:
    values = context(template, language)
    if channel == "email":
        mail = RENDERER.render(template=template, language=language, context=values)
        rendered = mail.subject + mail.body
    elif channel == "sms":
        sms = RENDERER.render_sms(template=template, language=language, context=values)
        assert set(sms.params) == set(SMS_PARAMETERS[template])
        assert "\n" not in sms.text
        rendered = sms.text
    else:
        notice = RENDERER.render_notice(template=template, language=language, context=values)
        assert notice.lines
        assert all(line.strip() for line in notice.lines)
        rendered = "\n".join((notice.title, *notice.lines))
        assert "C-20261123-000042" in notice.title
    assert "C-20261123-000042" in rendered
    assert "{{" not in rendered
    assert "{%" not in rendered
    assert "None" not in rendered


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", SMS_TEMPLATES)
def test_an_sms_takes_at_most_three_parts(template: TemplateName, language: str) -> None:
    sms = RENDERER.render_sms(
        template=template, language=language, context=context(template, language)
    )
    assert count_segments(sms.text).parts <= 3
    assert aliyun_parts(SIGN_NAME, sms.text) <= 3


@pytest.mark.parametrize(
    "template", ["resolution", "duplicate_notice", "withdrawal_confirmation", "tracking_code"]
)
def test_a_chinese_sms_without_a_link_fits_one_message(template: TemplateName) -> None:
    sms = RENDERER.render_sms(
        template=template, language="zh-CN", context=context(template, "zh-CN")
    )
    assert aliyun_parts(SIGN_NAME, sms.text) == 1


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ["survey_invitation", "nps_invitation"])
def test_feedbacks_full_length_link_is_passed_whole_and_still_accepted(
    template: TemplateName, language: str
) -> None:
    # The link is never cut (a cut link does not open); the message is longer, not refused.
    values = sample_context(template=template, language=language)
    sms = RENDERER.render_sms(template=template, language=language, context=values)
    link = values["survey_url" if template == "survey_invitation" else "nps_url"]
    assert len(link) > 250
    assert sms.params["link"] == link
    assert link in sms.text
    assert not aliyun_too_long(SIGN_NAME, sms.text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_agent_reply_sms_points_to_the_link_instead_of_quoting_the_reply(
    language: str,
) -> None:
    values = context("agent_reply", language)
    sms = RENDERER.render_sms(template="agent_reply", language=language, context=values)
    assert values["message"] not in sms.text
    assert "退款" not in sms.text
    assert sms.params == {"reference": "C-20261123-000042", "link": TRACKING_URL}
    assert sms.text.endswith(TRACKING_URL)
    assert ("新回复" if language == "zh-CN" else "New reply") in sms.text


def test_sms_text_says_what_the_provider_template_gets() -> None:
    sms = RENDERER.render_sms(
        template="tracking_code", language="zh-CN", context=context("tracking_code", "zh-CN")
    )
    assert sms.params == {
        "reference": "C-20261123-000042",
        "code": "004217",
        "expires": "11月23日 18:10",
    }
    assert sms.text == (
        "验证码004217，用于找回投诉C-20261123-000042的链接，11月23日 18:10前有效。请勿告诉他人。"
    )


def test_sms_parameters_are_bounded_one_line_and_never_empty() -> None:
    values = context("resolution", "en") | {"solution_type": "a\nvery " + "long " * 20}
    params = sms_params("resolution", values)
    assert len(params["solution"]) <= MAX_SMS_PARAM
    assert params["solution"].startswith("a very long")
    assert "\n" not in params["solution"]
    missing = sms_params(
        "acknowledgement", context("acknowledgement", "en") | {"tracking_url": None}
    )
    assert missing["link"] == MISSING_VALUE


@settings(max_examples=60, deadline=None)
@given(template=st.sampled_from(SMS_TEMPLATES), text=st.text(max_size=400))
def test_any_value_gives_bounded_one_line_parameters(template: TemplateName, text: str) -> None:
    values = {k: (text if isinstance(v, str) else v) for k, v in context(template, "en").items()}
    params = sms_params(template, values)
    assert set(params) == set(SMS_PARAMETERS[template])
    for name, value in params.items():
        assert value
        assert not any(ch in value for ch in "\r\n")
        if name != "link":
            assert len(value) <= MAX_SMS_PARAM


def test_an_sms_template_can_use_only_its_declared_parameters(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "en" / "sms" / "agent_reply.txt").write_text("{{ message }} {{ link }}\n")
    values = context("agent_reply", "en")
    with pytest.raises(UndefinedError):
        Renderer(tmp_path).render_sms(template="agent_reply", language="en", context=values)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ROBOT_TEMPLATES)
def test_no_robot_template_references_a_contact_field(template: str, language: str) -> None:
    env = Environment(autoescape=False)  # noqa: S701 (parsing only)
    path = TEMPLATE_DIR / template_path(template=template, language=language, channel="robot")
    used = meta.find_undeclared_variables(env.parse(path.read_text("utf-8")))
    assert used <= ROBOT_FIELDS
    assert not used & CONTACT_FIELDS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", ROBOT_TEMPLATES)
def test_a_robot_notice_shows_no_contact_even_when_the_context_has_one(
    template: TemplateName, language: str
) -> None:
    leaked = {
        "name": "张伟",
        "email": "zhang.wei@example.com",
        "phone": "+8613800138000",
        "reason": "客户张伟电话13800138000",
        "tracking_url": TRACKING_URL,
    }
    values = context(template, language) | leaked
    notice = RENDERER.render_notice(template=template, language=language, context=values)
    shown = "\n".join((notice.title, *notice.lines))
    for value in ("张伟", "zhang.wei", "13800138000", TRACKING_URL):
        assert value not in shown


def test_a_robot_template_reaching_for_a_contact_fails_instead_of_leaking(
    tmp_path: Path,
) -> None:
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "en" / "robot" / "assignment.txt").write_text("{{ reference }}\n{{ name }}\n")
    with pytest.raises(UndefinedError):
        Renderer(tmp_path).render_notice(
            template="assignment", language="en", context=context("assignment", "en")
        )


@pytest.mark.parametrize(
    ("template", "level", "severity"),
    [
        ("sla_breach", None, "critical"),
        ("sla_warning", None, "warning"),
        ("escalation", 1, "warning"),
        ("escalation", 2, "critical"),
        ("escalation", 3, "critical"),
        ("assignment", None, "info"),
        ("withdrawal_notice", None, "info"),
    ],
)
def test_severity_of_each_notice(template: TemplateName, level: int | None, severity: str) -> None:
    values = context(template, "en")
    if level is not None:
        values["level"] = level
    assert notice_severity(template, values) == severity
    notice = RENDERER.render_notice(template=template, language="en", context=values)
    assert notice.severity == severity


def test_a_late_sla_notice_says_so_and_an_on_time_one_has_no_blank_line() -> None:
    on_time = RENDERER.render_notice(
        template="sla_breach", language="en", context=context("sla_breach", "en")
    )
    assert on_time.lines == (
        "Team: billing",
        "Priority: P1",
        "Clock: resolution",
        "Due: 2026-11-23 18:00 (Asia/Shanghai)",
        "Breaches so far: 1",
    )
    late = RENDERER.render_notice(
        template="sla_breach", language="en", context=context("sla_breach", "en") | {"late": True}
    )
    assert late.lines[-1] == "(sent late, after an outage)"


@pytest.mark.parametrize("template", ROBOT_TEMPLATES)
def test_a_staff_template_has_no_sms(template: str) -> None:
    with pytest.raises(TemplateMissing) as caught:
        RENDERER.render_sms(template=template, language="en", context={})
    assert (caught.value.template, caught.value.channel) == (template, "sms")
    assert isinstance(caught.value, LookupError)


@pytest.mark.parametrize("template", SMS_TEMPLATES)
def test_a_customer_template_has_no_robot_notice(template: str) -> None:
    with pytest.raises(TemplateMissing):
        RENDERER.render_notice(template=template, language="zh-CN", context={})


def test_an_unknown_template_is_missing_not_a_crash() -> None:
    with pytest.raises(TemplateMissing):
        RENDERER.render_sms(template="no_such_template", language="en", context={})


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_language_without_its_file_is_missing(tmp_path: Path, channel: str) -> None:
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    path = template_path(template="acknowledgement", language="en", channel=channel)  # type: ignore[arg-type]
    (tmp_path / path).unlink()
    renderer = Renderer(tmp_path)
    values = context("acknowledgement", "en")
    render = renderer.render if channel == "email" else renderer.render_sms
    with pytest.raises(TemplateMissing) as caught:
        render(template="acknowledgement", language="en", context=values)
    assert caught.value.language == "en"
    assert renderer.languages_of(template="acknowledgement", channel=channel) == ("zh-CN",)  # type: ignore[arg-type]


def test_an_unknown_language_falls_back_to_chinese_like_email() -> None:
    sms = RENDERER.render_sms(
        template="acknowledgement", language="fr", context=context("acknowledgement", "zh-CN")
    )
    assert sms.text.startswith("您的投诉已受理")


def test_a_value_with_line_breaks_cannot_add_a_fact_to_a_notice() -> None:
    values = context("assignment", "en") | {"team": "billing\nPriority: P1\r\nfake"}
    notice = RENDERER.render_notice(template="assignment", language="en", context=values)
    assert notice.lines == ("Team: billing Priority: P1 fake",)
