"""Priority P1..P4 exactly per the §4 decision, every step recorded as a fired rule.

1. Base priority:
   - P1 for a data/privacy leak (category ``privacy_data_leak`` or a leak word in the
     text), a safety hazard word, or a supervisor's decision; a leak or hazard word the
     customer denies in its clause (没有漏电, "no injury") does not count and is recorded
     as ``priority.negated`` (``routing.triage.domain.negation``);
   - P4 for a *pure* query or suggestion: the text has a query/suggestion marker
     (请问, 建议, "could you tell me", ...) and no complaint signal, i.e. none of the
     problem words (坏了, 没收到, "broken", "never arrived", ...), negative or irritation
     words (太差, 还没, "still", ...) or threats. Purity is judged on the text alone,
     so the raise conditions below stay independent of the base;
   - P3 otherwise.
2. Raise by at most ONE level in total (P4→P3, P3→P2, never into P1) when any of:
   media / public-opinion / regulator / legal words, tier gold or vip, a repeat complaint,
   red emotion. Every raise condition that holds is recorded, also when it changes
   nothing (a second condition, or a P1 base).

Repeat complaint: ``repeat_count`` is the number of *earlier* complaints of the same
customer in the same category within the trailing 30 days (this one excluded); the
raise applies from ``repeat_threshold`` (default 2) on, i.e. from the third complaint.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from complaint_contracts.vocabulary import Category, EmotionLevel, Priority, Tier

from routing.triage.domain.lexicon import (
    MEDIA_LEGAL,
    NEGATIVE_MILD,
    NEGATIVE_STRONG,
    PRIVACY_LEAK,
    PROBLEM_WORDS,
    QUERY_MARKERS,
    SAFETY,
    THREATS,
)
from routing.triage.domain.matching import FiredRule, matched, normalize, quoted
from routing.triage.domain.negation import find_affirmed

DEFAULT_RAISE_TIERS: frozenset[str] = frozenset({"gold", "vip"})
DEFAULT_REPEAT_THRESHOLD = 2

_COMPLAINT_SIGNALS = PROBLEM_WORDS + NEGATIVE_STRONG + NEGATIVE_MILD + THREATS
# Only these two steps exist: a raise never enters P1 (§4).
_ONE_UP: dict[Priority, Priority] = {"P4": "P3", "P3": "P2"}


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    priority: Priority
    rules_fired: tuple[FiredRule, ...]
    base_priority: Priority  # before the raise; lets a reader see what the raise did


def _base(category: Category, text: str, supervisor_p1: bool) -> tuple[Priority, list[FiredRule]]:
    rules: list[FiredRule] = []
    leak = find_affirmed(PRIVACY_LEAK, text)
    if category == "privacy_data_leak" or leak.found:
        reasons = ["category privacy_data_leak"] if category == "privacy_data_leak" else []
        reasons += [matched(leak.found)] if leak.found else []
        rules.append(FiredRule("priority.p1.privacy_leak", "; ".join(reasons)))
    hazard = find_affirmed(SAFETY, text)
    if hazard.found:
        rules.append(FiredRule("priority.p1.safety_hazard", matched(hazard.found)))
    if supervisor_p1:
        rules.append(FiredRule("priority.p1.supervisor", "set to P1 by a supervisor"))
    denied = leak.negated + hazard.negated
    if denied:
        # A denied hazard is no P1 ("没有漏电"), but the reader should see it was looked at.
        rules.append(FiredRule("priority.negated", "ignored " + "; ".join(denied)))
    if any(r.rule.startswith("priority.p1.") for r in rules):
        return "P1", rules

    markers = QUERY_MARKERS.find_all(text)
    if markers:
        signals = _COMPLAINT_SIGNALS.find_all(text)
        if not signals:
            detail = f"{matched(markers)}, no complaint signal"
            return "P4", [FiredRule("priority.p4.pure_query", detail)]
        # Record why a question did not count as one: it complains as well.
        detail = f"{matched(markers)} but complaint signal {quoted(signals)}"
        rules.append(FiredRule("priority.p4.not_pure", detail))
    rules.append(FiredRule("priority.p3.default", "ordinary complaint"))
    return "P3", rules


def decide_priority(
    *,
    category: Category,
    text: str,
    tier: Tier,
    emotion: EmotionLevel,
    repeat_count: int = 0,
    supervisor_p1: bool = False,
    raise_tiers: Collection[str] = DEFAULT_RAISE_TIERS,
    repeat_threshold: int = DEFAULT_REPEAT_THRESHOLD,
) -> PriorityDecision:
    text = normalize(text)
    base, rules = _base(category, text, supervisor_p1)

    raises: list[FiredRule] = []
    media = MEDIA_LEGAL.find_all(text)
    if media:
        raises.append(FiredRule("priority.raise.media_legal", matched(media)))
    if tier in raise_tiers:
        raises.append(FiredRule("priority.raise.tier", f"tier {tier}"))
    if repeat_count >= repeat_threshold:
        detail = f"{repeat_count} earlier complaint(s) in this category within 30 days"
        raises.append(FiredRule("priority.raise.repeat", detail))
    if emotion == "red":
        raises.append(FiredRule("priority.raise.emotion_red", "emotion red"))
    rules.extend(raises)

    priority = base
    if raises:
        raised = _ONE_UP.get(base)
        if raised is None:
            rules.append(FiredRule("priority.raise.none", f"{base} stays: a raise never enters P1"))
        else:
            priority = raised
            extra = f" ({len(raises)} conditions, one level at most)" if len(raises) > 1 else ""
            rules.append(FiredRule("priority.raise.applied", f"{base} → {priority}{extra}"))
    return PriorityDecision(priority, tuple(rules), base)
