"""First triage of a complaint: category, emotion, then priority (which needs both)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from complaint_contracts.vocabulary import Category, EmotionLevel, Priority, Tier

from routing.triage.domain.classification import Classifier
from routing.triage.domain.emotion import assess_emotion
from routing.triage.domain.matching import FiredRule
from routing.triage.domain.priority import decide_priority


@dataclass(frozen=True, slots=True)
class TriageDecision:
    category: Category
    subcategory: str | None
    confidence: float
    priority: Priority
    emotion: EmotionLevel
    rules_fired: tuple[FiredRule, ...]  # category rules, then emotion, then priority


def triage(
    *,
    subject: str,
    description: str,
    language: str,
    tier: Tier,
    classifier: Classifier,
    repeat_count: int = 0,
    count_repeats: Callable[[Category], int] | None = None,
    supervisor_p1: bool = False,
) -> TriageDecision:
    """``count_repeats``, when given, counts the customer's earlier complaints of the category
    the classifier chose (the repeat rule needs it), instead of a fixed ``repeat_count``."""
    classification = classifier.classify(
        subject=subject, description=description, language=language
    )
    if count_repeats is not None:
        repeat_count = count_repeats(classification.category)
    emotion = assess_emotion(subject=subject, description=description)
    priority = decide_priority(
        category=classification.category,
        text=f"{subject}\n{description}",
        tier=tier,
        emotion=emotion.level,
        repeat_count=repeat_count,
        supervisor_p1=supervisor_p1,
    )
    return TriageDecision(
        category=classification.category,
        subcategory=classification.subcategory,
        confidence=classification.confidence,
        priority=priority.priority,
        emotion=emotion.level,
        rules_fired=classification.rules_fired + emotion.rules_fired + priority.rules_fired,
    )
