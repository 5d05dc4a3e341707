"""Use cases of the templates' catalogue: list every template's versions, and render one
version with its sample context. Reads files only; nothing is sent or stored."""

from __future__ import annotations

from dataclasses import dataclass

from complaint_runtime.errors import NotFound

from notify.messages.domain.planning import TEMPLATES, TemplateName
from notify.messages.domain.template_channels import Audience, Channel, audience_of, channels_of
from notify.messages.rendering import Renderer
from notify.sms.domain.segments import Encoding, count_segments
from notify.templates_api.domain.samples import sample_context


@dataclass(frozen=True)
class ChannelVersions:
    channel: Channel
    languages: tuple[str, ...]


@dataclass(frozen=True)
class TemplateVersions:
    name: TemplateName
    audience: Audience
    channels: tuple[ChannelVersions, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language any channel of the template has, in the platform's order."""
        seen: dict[str, None] = {}
        for versions in self.channels:
            seen |= dict.fromkeys(versions.languages)
        return tuple(seen)


@dataclass(frozen=True)
class SmsSegments:
    """How the SMS text is sent (GSM rule): its parts, encoding and length in units."""

    count: int
    encoding: Encoding
    units: int


@dataclass(frozen=True)
class Preview:
    """One version rendered: e-mail ``subject`` and ``body``; SMS ``text``, ``params`` and
    ``segments``; robot ``title``, ``lines`` and ``severity`` (the others None)."""

    template: TemplateName
    language: str
    channel: Channel
    subject: str | None = None
    body: str | None = None
    text: str | None = None
    params: dict[str, str] | None = None
    segments: SmsSegments | None = None
    title: str | None = None
    lines: tuple[str, ...] | None = None
    severity: str | None = None


def _versions(renderer: Renderer, name: TemplateName) -> TemplateVersions:
    return TemplateVersions(
        name=name,
        audience=audience_of(name),
        channels=tuple(
            ChannelVersions(channel, renderer.languages_of(template=name, channel=channel))
            for channel in channels_of(name)
        ),
    )


def list_templates(*, renderer: Renderer) -> list[TemplateVersions]:
    """Every template with the channels it has and the languages of each."""
    return [_versions(renderer, name) for name in TEMPLATES]


def _known(template: str) -> TemplateName:
    for name in TEMPLATES:
        if name == template:
            return name
    raise NotFound(
        "There is no template of that name.",
        title="Unknown template",
        kind="unknown-template",
        templates=list(TEMPLATES),
    )


def preview(*, renderer: Renderer, template: str, language: str, channel: Channel) -> Preview:
    """``template``'s version for ``channel`` in ``language``, rendered with its sample.

    Raises ``NotFound`` for an unknown template, and for a channel or language it has no
    version in (naming the channels, or the channel's languages, that exist). Never falls
    back to another language: a preview shows exactly the file asked for.
    """
    name = _known(template)
    versions = _versions(renderer, name)
    by_channel = {v.channel: v.languages for v in versions.channels}
    if channel not in by_channel:
        raise NotFound(
            f"Template {name} has no {channel} version; it has: {', '.join(by_channel)}.",
            title="No such channel for this template",
            kind="template-channel-missing",
            channels=list(by_channel),
        )
    if language not in by_channel[channel]:
        languages = by_channel[channel]
        raise NotFound(
            f"Template {name} has no {channel} version in that language; it has: "
            f"{', '.join(languages) or 'none'}.",
            title="No such language for this template",
            kind="template-language-missing",
            languages=list(languages),
        )
    context = sample_context(template=name, language=language)
    if channel == "email":
        mail = renderer.render(template=name, language=language, context=context)
        return Preview(name, language, channel, subject=mail.subject, body=mail.body)
    if channel == "sms":
        sms = renderer.render_sms(template=name, language=language, context=context)
        parts = count_segments(sms.text)
        return Preview(
            name,
            language,
            channel,
            text=sms.text,
            params=sms.params,
            segments=SmsSegments(count=parts.parts, encoding=parts.encoding, units=parts.units),
        )
    notice = renderer.render_notice(template=name, language=language, context=context)
    return Preview(
        name, language, channel, title=notice.title, lines=notice.lines, severity=notice.severity
    )
