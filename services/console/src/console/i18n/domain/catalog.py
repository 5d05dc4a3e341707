"""The console's message catalog: every text of the pages in zh-CN and en, by key.

Keys are dotted (``queue.mine.title``); vocabulary words are ``<group>.<value>``
(``status.in_progress``, ``priority.P1``) so a value routing sends can be looked up as it
is. ``{name}`` placeholders are filled by :func:`translate`. Both languages must hold
exactly the same keys (a unit test checks it, and that every key the templates use is
here); a key missing at run time shows the key itself rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from console.i18n.domain import messages_en, messages_tasks_en, messages_tasks_zh, messages_zh
from console.i18n.domain.language import Language

# Each language's modules, which hold no key twice (a unit test checks it).
MODULES: Final[Mapping[Language, tuple[Mapping[str, str], ...]]] = {
    "zh-CN": (messages_zh.VOCABULARY, messages_zh.PAGES, messages_tasks_zh.MESSAGES),
    "en": (messages_en.VOCABULARY, messages_en.PAGES, messages_tasks_en.MESSAGES),
}
MESSAGES: Final[Mapping[Language, Mapping[str, str]]] = {
    language: {key: text for module in modules for key, text in module.items()}
    for language, modules in MODULES.items()
}


class _Params(dict[str, object]):
    """Placeholders not given stay as they are (a template never fails on one)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(
    language: Language,
    key: str,
    params: Mapping[str, object] | None = None,
    *,
    default: str | None = None,
) -> str:
    """The message ``key`` in ``language`` with its ``{name}`` placeholders filled in from
    ``params``; ``default`` (else the key itself) when the catalog does not have it."""
    template = MESSAGES[language].get(key)
    if template is None:
        return default if default is not None else key
    return template.format_map(_Params(params)) if params else template
