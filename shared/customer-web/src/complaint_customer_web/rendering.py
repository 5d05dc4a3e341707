"""Customer pages rendered on the server with Jinja2 (autoescaped: a customer's or an
agent's text is always shown as text, ``<script>`` included). A service's own templates
come first, then this package's (``customer/base.html``, ``customer/error.html``), so a
page ``{% extends "customer/base.html" %}`` and keeps the shared layout."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from complaint_customer_web.assets import AssetUrls
from complaint_customer_web.language import LANGUAGES, Language

TEMPLATES: Final = Path(__file__).resolve().parent / "templates"
LANGUAGE_NAMES: Final[dict[Language, str]] = {"zh-CN": "中文", "en": "English"}


@dataclass(frozen=True)
class LanguageLink:
    language: Language
    label: str
    href: str
    current: bool


def language_links(current: Language, href_for: Callable[[Language], str]) -> list[LanguageLink]:
    """The switch: one link per language, each labelled in its own language."""
    return [
        LanguageLink(language, LANGUAGE_NAMES[language], href_for(language), language == current)
        for language in LANGUAGES
    ]


class CustomerPages:
    """The template environment of one service (built once, read-only afterwards)."""

    def __init__(self, directories: Sequence[Path], *, assets: AssetUrls) -> None:
        self.environment = Environment(
            loader=ChoiceLoader([FileSystemLoader([*directories, TEMPLATES])]),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.assets = assets

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.environment.get_template(name).render(
            {"assets": self.assets, "language_links": [], **context}
        )
