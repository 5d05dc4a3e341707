"""Which language a customer page is in: the customer's explicit choice on the page (the
switch), else the language their complaint was posted in (what the front end knew of
them), else what their browser asks for, else zh-CN, the platform's first language."""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

Language = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final[Language] = "zh-CN"
MAX_HEADER: Final = 1000  # a longer Accept-Language is read only this far


def is_language(value: object) -> TypeGuard[Language]:
    return value in LANGUAGES


def language_of_tag(tag: str) -> Language | None:
    """``zh``, ``zh-CN``, ``zh-Hans``... are zh-CN (the one Chinese the pages speak);
    ``en``, ``en-GB``... are en; anything else is neither."""
    primary = tag.strip().lower().split("-")[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> Language | None:
    """The most wanted of our languages in an ``Accept-Language`` header (zh-CN first at
    equal weight), or None when it names neither."""
    if not header:
        return None
    best: tuple[float, int, Language] | None = None
    for part in header[:MAX_HEADER].split(","):
        tag, _, params = part.partition(";")
        language = language_of_tag(tag)
        if language is None:
            continue
        weight = _weight(params)
        if weight <= 0:
            continue
        rank = (weight, 1 if language == "zh-CN" else 0, language)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _weight(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def choose_language(
    *,
    chosen: str | None = None,
    preferred: str | None = None,
    accept_language: str | None = None,
) -> Language:
    """``chosen``: the page's switch (a query parameter or the language cookie);
    ``preferred``: the customer's language as their complaint recorded it."""
    for candidate in (chosen, preferred):
        if is_language(candidate):
            return candidate
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE
