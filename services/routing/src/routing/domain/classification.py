"""Category classification (§4) behind a small interface, with a keyword implementation.

The keyword classifier is deliberately simple and explainable: a table of rules, each a
(category, subcategory, weight, patterns) row, kept as data in ``category_rules``
(re-exported here as ``DEFAULT_RULES`` and ``CATEGORY_PRECEDENCE``). A row fires at
most once, however many of its patterns match, so repeating a word cannot outvote a
different, specific signal.
A statistical classifier (jieba + model) can replace it behind ``Classifier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from complaint_contracts.vocabulary import CATEGORIES, Category

from routing.domain.category_rules import CATEGORY_PRECEDENCE, RULE_ROWS, RuleRow
from routing.domain.rules import FiredRule, Lexicon, matched, normalize


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
    """A row of the rule table; ``subcategory`` None marks a generic context rule."""

    category: Category
    subcategory: str | None
    weight: int
    lexicon: Lexicon

    def __post_init__(self) -> None:
        # A zero or negative weight would let a "match" lower a score or divide by zero.
        if self.weight <= 0:
            raise ValueError(f"rule weight must be positive, got {self.weight}")

    @property
    def name(self) -> str:
        return f"category.{self.category}.{self.subcategory or 'keyword'}"


def _rule(row: RuleRow) -> KeywordRule:
    category, subcategory, weight, patterns = row
    lexicon = patterns if isinstance(patterns, Lexicon) else Lexicon(patterns)
    return KeywordRule(category, subcategory, weight, lexicon)


# The table itself is data, in ``routing.domain.category_rules``; table order is kept.
DEFAULT_RULES: tuple[KeywordRule, ...] = tuple(_rule(row) for row in RULE_ROWS)
NO_MATCH_CONFIDENCE = 0.2
# A keyword match is never certainty; a statistical model may earn more.
MAX_CONFIDENCE = 0.95


class KeywordClassifier:
    """Rules in Chinese and English; all rules run on every text, whatever its language,
    because customers mix them ("我的app闪退")."""

    def __init__(
        self,
        rules: Sequence[KeywordRule] = DEFAULT_RULES,
        precedence: Sequence[Category] = CATEGORY_PRECEDENCE,
    ) -> None:
        self._rules = tuple(rules)
        missing = set(CATEGORIES) - set(precedence)
        self._precedence = tuple(precedence) + tuple(c for c in CATEGORIES if c in missing)

    def classify(self, *, subject: str, description: str, language: str) -> Classification:
        text = normalize(f"{subject}\n{description}")
        fired: dict[Category, list[tuple[KeywordRule, tuple[str, ...]]]] = {}
        for rule in self._rules:
            fragments = rule.lexicon.find_all(text)
            if fragments:
                fired.setdefault(rule.category, []).append((rule, fragments))
        if not fired:
            return Classification(
                category="other",
                subcategory=None,
                confidence=NO_MATCH_CONFIDENCE,
                rules_fired=(FiredRule("category.other.no_match", "no category rule matched"),),
            )

        scores = {cat: sum(rule.weight for rule, _ in hits) for cat, hits in fired.items()}
        ranked = sorted(scores, key=lambda c: (-scores[c], self._precedence.index(c)))
        best = ranked[0]
        top = scores[best]
        runner_up = scores[ranked[1]] if len(ranked) > 1 else 0

        hits = fired[best]
        specific = [rule for rule, _ in hits if rule.subcategory is not None]
        subcategory = max(specific, key=lambda r: r.weight).subcategory if specific else None

        rules = [FiredRule(rule.name, matched(fragments)) for rule, fragments in hits]
        summary = f"{best}={top}" + (f", runner-up {ranked[1]}={runner_up}" if runner_up else "")
        rules.append(FiredRule("category.score", summary))
        if runner_up == top:
            rules.append(
                FiredRule("category.tie_break", f"{best} precedes {ranked[1]} on equal score")
            )
        # 0.5 on a tie (a coin toss between two categories), MAX_CONFIDENCE when no
        # other category scored at all.
        confidence = round(0.5 + (MAX_CONFIDENCE - 0.5) * (top - runner_up) / top, 2)
        return Classification(best, subcategory, confidence, tuple(rules))
