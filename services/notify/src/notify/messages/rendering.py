"""Message templates (Jinja2, plain text), one file per template x language x channel:

- e-mail ``templates/<language>/<template>.txt``: ``Subject: …``, a blank line, the body;
- SMS ``templates/<language>/sms/<template>.txt`` (customer templates): the text, rendered
  from the template's declared provider parameters only (``domain/template_channels.py``);
- robot ``templates/<language>/robot/<template>.txt`` (staff templates): the title on the
  first line, then one line per fact, rendered from staff-safe facts only.

Undefined variables are errors (StrictUndefined), so a template and the context built for it
cannot drift apart silently. Autoescape is off: these are plain texts, not HTML. A version
that does not exist (a channel the template lacks, a language without its file) is
:class:`TemplateMissing`, which the delivery loop records as a final failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound

from notify.messages.domain.planning import TEMPLATES, TemplateName
from notify.messages.domain.template_channels import (
    Channel,
    Severity,
    channels_of,
    notice_severity,
    robot_context,
    sms_params,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
MAX_SUBJECT = 200
_SUBJECT_PREFIX = "Subject:"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


@dataclass(frozen=True)
class RenderedSms:
    """``text``: notify's rendering (what a preview and a development provider show, and
    what segments are counted on); ``params``: what the provider's own template gets."""

    text: str
    params: dict[str, str]


@dataclass(frozen=True)
class RenderedNotice:
    """A staff notice for a group-chat robot: title, one line per fact, severity."""

    title: str
    lines: tuple[str, ...]
    severity: Severity


class TemplateFormatError(ValueError):
    """A template file does not start with its subject line (or a robot file is empty)."""


class TemplateMissing(LookupError):
    """``template`` has no version for ``channel`` in ``language`` (or is no template)."""

    def __init__(self, *, template: str, language: str, channel: str) -> None:
        super().__init__(f"template {template!r} has no {channel} version in {language!r}")
        self.template = template
        self.language = language
        self.channel = channel


def template_path(*, template: str, language: str, channel: Channel) -> str:
    """The file of one version, relative to the template directory."""
    if channel == "email":
        return f"{language}/{template}.txt"
    return f"{language}/{channel}/{template}.txt"


class Renderer:
    """The templates of one directory, compiled on first use and kept (never reloaded)."""

    def __init__(self, directory: Path = TEMPLATE_DIR):
        self._directory = directory
        self._env = Environment(
            loader=FileSystemLoader(directory),
            # text/plain e-mail, not HTML: escaping would turn "&" or "<" in a name or a
            # reason into entities the reader sees verbatim.
            autoescape=False,  # noqa: S701 (plain-text templates; see the comment above)
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
        )

    def render(self, *, template: str, language: str, context: dict[str, Any]) -> RenderedMessage:
        if template not in TEMPLATES:
            raise ValueError(f"unknown template {template!r}")
        lang = language if language in LANGUAGES else "zh-CN"
        text = self._load(template=template, language=lang, channel="email").render(**context)
        head, _, body = text.partition("\n")
        if not head.startswith(_SUBJECT_PREFIX):
            raise TemplateFormatError(f"{lang}/{template}.txt must start with {_SUBJECT_PREFIX!r}")
        # Values come from events; a line break in the subject would inject mail headers.
        subject = " ".join(head[len(_SUBJECT_PREFIX) :].split())[:MAX_SUBJECT]
        return RenderedMessage(subject=subject, body=body.lstrip("\n"))

    def languages_of(self, *, template: str, channel: Channel) -> tuple[str, ...]:
        """The languages (of :data:`LANGUAGES`) that have a file for this version."""
        if channel not in channels_of(template):
            return ()
        return tuple(
            lang
            for lang in LANGUAGES
            if (
                self._directory / template_path(template=template, language=lang, channel=channel)
            ).is_file()
        )

    def render_sms(self, *, template: str, language: str, context: dict[str, Any]) -> RenderedSms:
        """The customer SMS of ``template``: its text rendered from its declared parameters
        only (so it says what the provider's template says), ends stripped; the parameters
        as :func:`sms_params` bounds them. Raises :class:`TemplateMissing`."""
        name, lang = self._version(template=template, language=language, channel="sms")
        params = sms_params(name, context)
        text = self._load(template=name, language=lang, channel="sms").render(**params)
        return RenderedSms(text=text.strip(), params=params)

    def render_notice(
        self, *, template: str, language: str, context: dict[str, Any]
    ) -> RenderedNotice:
        """The robot notice of ``template`` from the staff-safe facts of ``context`` only:
        the first non-blank line is the title, each further non-blank line one fact.
        Raises :class:`TemplateMissing`."""
        name, lang = self._version(template=template, language=language, channel="robot")
        loaded = self._load(template=name, language=lang, channel="robot")
        text = loaded.render(**robot_context(context))
        lines = [" ".join(line.split()) for line in text.splitlines()]
        title, *facts = [line for line in lines if line] or [""]
        if not title:
            raise TemplateFormatError(f"{lang}/robot/{name}.txt rendered no title")
        return RenderedNotice(
            title=title, lines=tuple(facts), severity=notice_severity(name, context)
        )

    def _version(
        self, *, template: str, language: str, channel: Channel
    ) -> tuple[TemplateName, str]:
        lang = language if language in LANGUAGES else "zh-CN"
        for name in TEMPLATES:
            if name == template and channel in channels_of(name):
                return name, lang
        raise TemplateMissing(template=template, language=lang, channel=channel)

    def _load(self, *, template: str, language: str, channel: Channel) -> Template:
        path = template_path(template=template, language=language, channel=channel)
        try:
            return self._env.get_template(path)
        except TemplateNotFound as exc:
            raise TemplateMissing(template=template, language=language, channel=channel) from exc
