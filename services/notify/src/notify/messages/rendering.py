"""Message templates (Jinja2, plain text): ``templates/<language>/<template>.txt``.

Each file starts with ``Subject: …``, a blank line, then the body. Undefined variables are
errors (StrictUndefined), so a template and the context built for it cannot drift apart
silently. Autoescape is off: these are text/plain messages, not HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notify.messages.domain.planning import TEMPLATES

TEMPLATE_DIR = Path(__file__).parent / "templates"
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
MAX_SUBJECT = 200
_SUBJECT_PREFIX = "Subject:"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


class TemplateFormatError(ValueError):
    """A template file does not start with its subject line."""


class Renderer:
    """The templates of one directory, compiled on first use and kept (never reloaded)."""

    def __init__(self, directory: Path = TEMPLATE_DIR):
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
        text = self._env.get_template(f"{lang}/{template}.txt").render(**context)
        head, _, body = text.partition("\n")
        if not head.startswith(_SUBJECT_PREFIX):
            raise TemplateFormatError(f"{lang}/{template}.txt must start with {_SUBJECT_PREFIX!r}")
        # Values come from events; a line break in the subject would inject mail headers.
        subject = " ".join(head[len(_SUBJECT_PREFIX) :].split())[:MAX_SUBJECT]
        return RenderedMessage(subject=subject, body=body.lstrip("\n"))
