"""Lexicon matches that the customer does not deny: 起火了 counts, 没有漏电 does not.

Priority and emotion act on the hazard and leak words (§4: P1, alarm). A plain substring
match would make "没有漏电，就是不加热" or "no injury, but the lid is cracked" P1 and red,
so these rules use the same clause-level negation check as the classifier
(``Segmentation.negated``). A negation only governs its own clause, so "没有漏电但起火了"
and "nobody was hurt, but it caught fire" still count.

Word boundaries are deliberately not checked here (the classifier does check them): a
missed hazard costs a P1, a spurious one only an early look, so this errs towards firing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from routing.triage.domain.matching import Lexicon
from routing.triage.domain.segmentation import segment

_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")


@dataclass(frozen=True, slots=True)
class Affirmed:
    found: tuple[str, ...]  # distinct fragments matched without a governing negation
    negated: tuple[str, ...]  # "'漏电' after '没有'", one note per distinct denial


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    # The same boundaries as ``Lexicon``: ASCII patterns match whole ASCII words.
    return tuple(
        re.compile(
            f"(?<![0-9A-Za-z])(?:{p})(?![0-9A-Za-z])" if _ASCII_ALNUM.search(p) else p,
            re.IGNORECASE,
        )
        for p in patterns
    )


def find_affirmed(lexicon: Lexicon, text: str) -> Affirmed:
    """``lexicon``'s matches in ``text`` (normalized) split into affirmed and negated.

    A pattern counts as affirmed when any of its matches is not negated, so one denial
    cannot hide a later, plain statement of the same word (没漏电……后来又漏电了)."""
    segmentation = segment(text)
    found: list[str] = []
    negated: list[str] = []
    for compiled in _compiled(lexicon.patterns):
        for match in compiled.finditer(text):
            start, end = match.span()
            if start == end:
                continue
            negator = segmentation.negated(start)
            if negator is None:
                if match.group(0) not in found:
                    found.append(match.group(0))
                break
            note = f"'{match.group(0)}' after '{negator}'"
            if note not in negated:
                negated.append(note)
    return Affirmed(tuple(found), tuple(negated))
