"""Which language a page is in: the user's explicit choice (a cookie), else the browser's
``Accept-Language`` (zh-CN first when both are equally welcome), else the default."""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

Language = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh-CN", "en")
MAX_HEADER: Final = 1000  # longer Accept-Language headers are read only this far


def is_language(value: object) -> TypeGuard[Language]:
    return value in LANGUAGES


def _language_of(tag: str) -> Language | None:
    """``zh``, ``zh-CN``, ``zh-Hans-CN``... are zh-CN (the console's one Chinese);
    ``en``, ``en-GB``... are en; anything else is neither."""
    primary = tag.strip().lower().split("-")[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept_language: str | None, *, default: Language) -> Language:
    """The best of zh-CN and en for this ``Accept-Language`` header (RFC 9110 q-values);
    a tie goes to zh-CN; neither acceptable: ``default``."""
    best: dict[Language, float] = {}
    for item in (accept_language or "")[:MAX_HEADER].split(","):
        tag, *parameters = item.split(";")
        language = _language_of(tag)
        quality = _quality(parameters)
        if language is not None and quality > 0:
            best[language] = max(best.get(language, 0.0), quality)
    if not best:
        return default
    return max(LANGUAGES, key=lambda lang: (best.get(lang, 0.0), lang == "zh-CN"))


def chosen_language(
    choice: str | None, accept_language: str | None, *, default: Language
) -> Language:
    """The user's saved choice when it is a language of the console, else negotiation."""
    if is_language(choice):
        return choice
    return negotiate(accept_language, default=default)
