"""Routing's pure domain: triage (category, emotion, priority) and team ownership.

Nothing here does I/O; adapters feed text in and publish the decisions as events.
"""

from routing.domain.classification import Classification, Classifier, KeywordClassifier
from routing.domain.emotion import EmotionAssessment, assess_emotion
from routing.domain.priority import PriorityDecision, decide_priority
from routing.domain.rules import FiredRule
from routing.domain.teams import DEFAULT_TEAM_OWNERSHIP, team_for_category
from routing.domain.triage import TriageDecision, triage

__all__ = [
    "DEFAULT_TEAM_OWNERSHIP",
    "Classification",
    "Classifier",
    "EmotionAssessment",
    "FiredRule",
    "KeywordClassifier",
    "PriorityDecision",
    "TriageDecision",
    "assess_emotion",
    "decide_priority",
    "team_for_category",
    "triage",
]
