"""The templates' catalogue and previews without HTTP: every version previews with its
sample, and what does not exist is a NotFound naming what does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from complaint_runtime.errors import NotFound
from notify.messages.domain.planning import TEMPLATES
from notify.messages.domain.template_channels import CONTACT_FIELDS, channels_of
from notify.messages.rendering import LANGUAGES, TEMPLATE_DIR, Renderer
from notify.templates_api.domain.samples import SAMPLE_REFERENCE, SAMPLE_STORED
from notify.templates_api.service import list_templates, preview

RENDERER = Renderer()


def test_every_template_has_a_sample() -> None:
    assert set(SAMPLE_STORED) == set(TEMPLATES)


def test_the_catalogue_lists_every_template_with_its_channels_and_languages() -> None:
    listed = {t.name: t for t in list_templates(renderer=RENDERER)}
    assert list(listed) == list(TEMPLATES)
    ack = listed["acknowledgement"]
    assert ack.audience == "customer"
    assert [(c.channel, c.languages) for c in ack.channels] == [
        ("email", LANGUAGES),
        ("sms", LANGUAGES),
    ]
    assert ack.languages == LANGUAGES
    assert [c.channel for c in listed["sla_breach"].channels] == ["email", "robot"]
    assert listed["sla_breach"].audience == "staff"


@pytest.mark.parametrize(
    ("template", "language", "channel"),
    [(t, lang, c) for t in TEMPLATES for lang in LANGUAGES for c in channels_of(t)],
)
def test_every_version_previews(template: str, language: str, channel: str) -> None:
    shown = preview(renderer=RENDERER, template=template, language=language, channel=channel)  # type: ignore[arg-type]
    assert (shown.template, shown.language, shown.channel) == (template, language, channel)
    if channel == "email":
        assert shown.subject
        assert shown.body
        assert shown.text is None
        assert shown.title is None
    elif channel == "sms":
        assert shown.text
        assert shown.params
        assert shown.segments
        assert shown.segments.count >= 1
        assert shown.segments.encoding == ("UCS-2" if language == "zh-CN" else "GSM-7")
    else:
        assert shown.title
        assert shown.lines
        assert shown.severity
        assert SAMPLE_REFERENCE in shown.title


def test_an_sms_preview_counts_the_segments_of_the_real_link_length() -> None:
    # feedback's survey links are long: the preview shows what that costs.
    shown = preview(
        renderer=RENDERER, template="survey_invitation", language="zh-CN", channel="sms"
    )
    assert shown.segments is not None
    assert shown.segments.encoding == "UCS-2"
    assert shown.segments.count > 3
    short = preview(renderer=RENDERER, template="resolution", language="zh-CN", channel="sms")
    assert short.segments is not None
    assert short.segments.count == 1


def test_an_unknown_template_is_not_found_naming_the_templates() -> None:
    with pytest.raises(NotFound) as caught:
        preview(renderer=RENDERER, template="nope", language="en", channel="email")
    assert caught.value.kind == "unknown-template"
    assert caught.value.extensions["templates"] == list(TEMPLATES)


def test_a_channel_the_template_lacks_is_not_found_naming_its_channels() -> None:
    with pytest.raises(NotFound) as caught:
        preview(renderer=RENDERER, template="assignment", language="en", channel="sms")
    assert caught.value.kind == "template-channel-missing"
    assert caught.value.extensions["channels"] == ["email", "robot"]
    assert "email, robot" in str(caught.value.detail)


def test_a_language_without_a_file_is_not_found_and_never_falls_back(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "en" / "robot" / "escalation.txt").unlink()
    renderer = Renderer(tmp_path)
    for language, channel in (("fr", "email"), ("en", "robot")):
        with pytest.raises(NotFound) as caught:
            preview(renderer=renderer, template="escalation", language=language, channel=channel)  # type: ignore[arg-type]
        assert caught.value.kind == "template-language-missing"
    assert caught.value.extensions["languages"] == ["zh-CN"]


def test_staff_previews_show_no_contact_field() -> None:
    for template in ("assignment", "escalation", "withdrawal_notice"):
        shown = preview(renderer=RENDERER, template=template, language="zh-CN", channel="robot")
        text = "\n".join((shown.title or "", *(shown.lines or ())))
        assert "张伟" not in text
        assert "王磊" not in text
    assert "name" in CONTACT_FIELDS


def test_every_sms_with_realistic_links_fits_the_default_parts_limit() -> None:
    """With the default NOTIFY_SMS_MAX_PARTS every customer message can go by SMS, the
    survey and NPS invitations (feedback's ~310-character signed links) included."""
    from notify.config import NotifySettings
    from notify.messages.domain.planning import TEMPLATES
    from notify.messages.domain.template_channels import channels_of
    from notify.messages.rendering import LANGUAGES, Renderer
    from notify.sms.domain.segments import aliyun_parts
    from notify.templates_api.domain.samples import sample_context

    limit = NotifySettings.model_fields["notify_sms_max_parts"].default
    renderer = Renderer()
    parts = {
        (template, language): aliyun_parts(
            "投诉平台",
            renderer.render_sms(
                template=template,
                language=language,
                context=sample_context(template=template, language=language),
            ).text,
        )
        for template in TEMPLATES
        if "sms" in channels_of(template)
        for language in LANGUAGES
    }
    assert parts
    assert {key: n for key, n in parts.items() if n > limit} == {}
