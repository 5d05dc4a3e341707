"""Category classification (§4) behind a small interface, with a keyword implementation.

The keyword classifier is deliberately simple and explainable: a table of rules, each a
(category, subcategory, weight, patterns) row, kept as data in ``keyword_table``
(re-exported here as ``DEFAULT_RULES`` and ``CATEGORY_PRECEDENCE``), plus the extra
keywords an administrator gave the category tree. A row fires at most once, however many
of its patterns match, so repeating a word cannot outvote a different, specific signal.

Matching is segmentation-aware (``routing.triage.domain.segmentation``): a Chinese match counts
only on word boundaries (积分 does not fire inside 微积分), and a fault word of a
``NEGATABLE`` row does not count after a negation (没有漏电). A statistical model
(``routing.triage.model``) can replace the rules behind ``Classifier``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from complaint_contracts.vocabulary import CATEGORIES, Category

from routing.categories.domain.tree import DEFAULT_TREE, CategoryTree
from routing.triage.domain.keyword_table import (
    CATEGORY_PRECEDENCE,
    KEYWORD_ROWS,
    NEGATABLE,
    KeywordRow,
)
from routing.triage.domain.matching import FiredRule, Lexicon, normalize, quoted
from routing.triage.domain.segmentation import Segmentation, add_words, segment


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    subcategory: str | None
    confidence: float  # 0..1
    rules_fired: tuple[FiredRule, ...]


class Classifier(Protocol):
    def classify(self, *, subject: str, description: str, language: str) -> Classification: ...


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A row of the keyword table; ``subcategory`` None marks a generic context rule."""

    category: Category
    subcategory: str | None
    weight: int
    lexicon: Lexicon
    negatable: bool = False
    origin: Literal["table", "admin"] = "table"

    def __post_init__(self) -> None:
        # A zero or negative weight would let a "match" lower a score or divide by zero.
        if self.weight <= 0:
            raise ValueError(f"rule weight must be positive, got {self.weight}")

    @property
    def name(self) -> str:
        name = f"category.{self.category}.{self.subcategory or 'keyword'}"
        return name + ".admin_keywords" if self.origin == "admin" else name


def _rule(row: KeywordRow) -> KeywordRule:
    category, subcategory, weight, patterns = row
    lexicon = patterns if isinstance(patterns, Lexicon) else Lexicon(patterns)
    negatable = subcategory is not None and (category, subcategory) in NEGATABLE
    return KeywordRule(category, subcategory, weight, lexicon, negatable)


def rules_for_tree(tree: CategoryTree) -> tuple[KeywordRule, ...]:
    """One rule per sub-category an administrator gave keywords; keywords are literal
    (escaped), so an administrator cannot write a slow or broken regular expression."""
    return tuple(
        KeywordRule(
            node.code,
            sub.code,
            sub.weight,
            Lexicon(re.escape(k) for k in sub.keywords),
            origin="admin",
        )
        for node in tree.categories
        for sub in node.subcategories
        if sub.keywords
    )


# The table itself is data, in ``routing.triage.domain.keyword_table``; table order is kept.
DEFAULT_RULES: tuple[KeywordRule, ...] = tuple(_rule(row) for row in KEYWORD_ROWS)
NO_MATCH_CONFIDENCE = 0.2
NO_MATCH_SUBCATEGORY = "unclassified"
# A keyword match is never certainty; a statistical model may earn more.
MAX_CONFIDENCE = 0.95
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")
_LITERAL_CJK = re.compile(r"^[\u3400-\u9fff]{2,12}$")


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    # Cached here: the table has more patterns than ``re``'s own cache holds (512), and
    # a classifier is built per category-tree version.
    """As ``routing.triage.domain.matching``: ASCII patterns match between ASCII boundaries."""
    if _ASCII_ALNUM.search(pattern):
        pattern = f"(?<![0-9A-Za-z])(?:{pattern})(?![0-9A-Za-z])"
    return re.compile(pattern, re.IGNORECASE)


_REGEX_SYNTAX = frozenset(".^$*+?{}[]\\|()")


def literal_of(pattern: str) -> str | None:
    """The lower-cased text a plain-word pattern must contain to match, or None when the
    pattern uses regex syntax or letters whose case ``str.lower`` might fold otherwise than
    the regex engine (then it is always scanned). Every match of the pattern, ignoring case,
    contains it: a text without it needs no scan."""
    if not pattern or _REGEX_SYNTAX.intersection(pattern):
        return None
    if not pattern.isascii() and any(ch.lower() != ch.upper() for ch in pattern):
        return None
    return pattern.lower()


@dataclass(frozen=True, slots=True)
class _Hit:
    fragment: str
    where: str  # "subject" or "description"


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    subject_end: int
    segmentation: Segmentation
    lowered: str  # for the literal test (patterns match ignoring case)

    def where(self, start: int) -> str:
        return "subject" if start < self.subject_end else "description"


class KeywordClassifier:
    """Rules in Chinese and English; all rules run on every text, whatever its language,
    because customers mix them ("我的app闪退")."""

    def __init__(
        self,
        rules: Sequence[KeywordRule] = DEFAULT_RULES,
        precedence: Sequence[Category] = CATEGORY_PRECEDENCE,
        *,
        tree: CategoryTree = DEFAULT_TREE,
    ) -> None:
        self.tree = tree
        self._rules = tuple(rules) + rules_for_tree(tree)
        self._compiled = tuple(
            (rule, tuple(compile_pattern(p) for p in rule.lexicon.patterns)) for rule in self._rules
        )
        # Most patterns are plain words: a substring test (in C, no regex) tells first
        # whether such a word occurs at all, and only then is it matched as a pattern.
        self._literals = tuple(
            tuple(literal_of(p) for p in rule.lexicon.patterns) for rule in self._rules
        )
        missing = set(CATEGORIES) - set(precedence)
        self._precedence = tuple(precedence) + tuple(c for c in CATEGORIES if c in missing)
        # Literal Chinese keywords become dictionary words, so that they segment whole.
        add_words(p for rule in self._rules for p in rule.lexicon.patterns if _LITERAL_CJK.match(p))

    def _matches(
        self,
        patterns: Sequence[re.Pattern[str]],
        literals: Sequence[str | None],
        negatable: bool,
        text: _Text,
    ) -> tuple[list[_Hit], list[str]]:
        hits: list[_Hit] = []
        negated: list[str] = []
        seg = text.segmentation
        for compiled, literal in zip(patterns, literals, strict=True):
            if literal is not None and literal not in text.lowered:
                continue  # the word does not occur: the pattern cannot match
            for match in compiled.finditer(text.text):
                start, end = match.span()
                if start == end or not seg.aligned(start, end):
                    continue
                negator = seg.negated(start) if negatable else None
                if negator is not None:
                    note = f"'{match.group(0)}' after '{negator}' in {text.where(start)}"
                    if note not in negated:
                        negated.append(note)
                    continue
                if all(h.fragment != match.group(0) for h in hits):
                    hits.append(_Hit(match.group(0), text.where(start)))
                break
        return hits, negated

    def classify(
        self,
        *,
        subject: str,
        description: str,
        language: str,  # noqa: ARG002 (the Classifier protocol; every rule runs on every text)
    ) -> Classification:
        head = normalize(subject)
        joined = f"{head}\n{normalize(description)}"
        text = _Text(joined, len(head), segment(joined), joined.lower())
        fired: dict[Category, list[tuple[KeywordRule, list[_Hit]]]] = {}
        ignored: list[str] = []
        for (rule, patterns), literals in zip(self._compiled, self._literals, strict=True):
            found, negated = self._matches(patterns, literals, rule.negatable, text)
            ignored.extend(n for n in negated if n not in ignored)
            if found:
                fired.setdefault(rule.category, []).append((rule, found))
        negation: tuple[FiredRule, ...] = ()
        if ignored:
            negation = (FiredRule("category.negated", "ignored " + "; ".join(ignored)),)
        if not fired:
            # The tree's "unclassified" leaf exists for exactly this: no rule said more.
            return Classification(
                category="other",
                subcategory=NO_MATCH_SUBCATEGORY,
                confidence=NO_MATCH_CONFIDENCE,
                rules_fired=(
                    FiredRule("category.other.no_match", "no category rule matched"),
                    *negation,
                ),
            )

        scores = {cat: sum(rule.weight for rule, _ in hits) for cat, hits in fired.items()}
        ranked = sorted(scores, key=lambda c: (-scores[c], self._precedence.index(c)))
        best = ranked[0]
        top = scores[best]
        runner_up = scores[ranked[1]] if len(ranked) > 1 else 0

        hits = fired[best]
        specific = [rule for rule, _ in hits if rule.subcategory is not None]
        subcategory = max(specific, key=lambda r: r.weight).subcategory if specific else None

        rules = [FiredRule(rule.name, _detail(found)) for rule, found in hits]
        summary = f"{best}={top}" + (f", runner-up {ranked[1]}={runner_up}" if runner_up else "")
        rules.append(FiredRule("category.score", summary))
        if runner_up == top:
            rules.append(
                FiredRule("category.tie_break", f"{best} precedes {ranked[1]} on equal score")
            )
        rules.extend(negation)
        # 0.5 on a tie (a coin toss between two categories), MAX_CONFIDENCE when no
        # other category scored at all.
        confidence = round(0.5 + (MAX_CONFIDENCE - 0.5) * (top - runner_up) / top, 2)
        return Classification(best, subcategory, confidence, tuple(rules))


def _detail(hits: Sequence[_Hit]) -> str:
    """``matched '退款延迟' in subject; 'refund' in description``."""
    parts: list[str] = []
    for where in ("subject", "description"):
        fragments = [h.fragment for h in hits if h.where == where]
        if fragments:
            parts.append(f"{quoted(fragments)} in {where}")
    return "matched " + "; ".join(parts)
