"""Explainable pattern matching shared by every triage rule.

A pattern is a regular expression. Patterns containing ASCII letters or digits match
case-insensitively between ASCII boundaries (``refund`` does not fire inside
``refunded``); purely Chinese patterns match as substrings, because Chinese has no
spaces between words and a substring is the honest unit for a keyword rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")
# Not \b: in Python \w covers CJK, so \b would find no boundary in "我的app闪退".
_BEFORE = r"(?<![0-9A-Za-z])"
_AFTER = r"(?![0-9A-Za-z])"


@dataclass(frozen=True, slots=True)
class FiredRule:
    """One rule that contributed to a decision; mirrors the contract's ``FiredRule``."""

    rule: str
    detail: str = ""


def normalize(text: str) -> str:
    """NFKC folds full-width forms (！, ＡＢＣ, １２３) into ASCII: one pattern serves both."""
    return unicodedata.normalize("NFKC", text)


def _compile(pattern: str) -> re.Pattern[str]:
    if _ASCII_ALNUM.search(pattern):
        pattern = f"{_BEFORE}(?:{pattern}){_AFTER}"
    return re.compile(pattern, re.IGNORECASE)


class Lexicon:
    """An ordered list of patterns; order fixes which match is reported first."""

    __slots__ = ("_compiled", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: tuple[str, ...] = tuple(patterns)
        self._compiled = tuple(_compile(p) for p in self.patterns)

    def find_all(self, text: str) -> tuple[str, ...]:
        """Distinct matched fragments, in pattern order; expects normalized text."""
        found: list[str] = []
        for compiled in self._compiled:
            match = compiled.search(text)
            if match is not None and match.group(0) not in found:
                found.append(match.group(0))
        return tuple(found)

    def find(self, text: str) -> str | None:
        for compiled in self._compiled:
            match = compiled.search(text)
            if match is not None:
                return match.group(0)
        return None

    def __add__(self, other: Lexicon) -> Lexicon:
        return Lexicon(self.patterns + other.patterns)


def quoted(fragments: Iterable[str]) -> str:
    return ", ".join(f"'{f}'" for f in fragments)


def matched(fragments: Iterable[str]) -> str:
    """The detail text of a fired rule: ``matched '退款', 'refund'``."""
    return "matched " + quoted(fragments)
