"""§4 priority over a case's whole life in routing: first triage (every raise rule,
repeats included), then any sequence of irritation streaks, reopens and supervisor
decisions. The raise at triage is at most one level, and P1 is never reached without a
leak or safety rule or a supervisor's decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from complaint_contracts.vocabulary import PRIORITIES, Priority, Tier
from hypothesis import given, settings
from hypothesis import strategies as st
from routing.cases.domain.lifecycle import raise_priority
from routing.triage.domain.classification import KeywordClassifier
from routing.triage.domain.triage import TriageDecision, triage

RANK = {p: i for i, p in enumerate(PRIORITIES)}  # P1 → 0 … P4 → 3
P1_RULES = {"priority.p1.privacy_leak", "priority.p1.safety_hazard", "priority.p1.supervisor"}
BASE_RULES = {"priority.p4.pure_query": "P4", "priority.p3.default": "P3"}
CLASSIFIER = KeywordClassifier()

FRAGMENTS = [
    "我的退款到现在还没到账",
    "快递三天了还没收到",
    "请问",
    "建议",
    "我要去微博曝光",
    "律师",
    "I will sue you",
    "the charger caught fire",
    "漏电",
    "我的个人信息被泄露了",
    "太差了!!!",
    "THIS IS UNACCEPTABLE",
    "麻烦",
    "again",
    "谢谢",
]
complaints = st.fixed_dictionaries(
    {
        "text": st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=5).map("，".join),
        "tier": st.sampled_from(["standard", "silver", "gold", "vip"]),
        "repeat_count": st.integers(min_value=0, max_value=5),
    }
)


@dataclass(frozen=True)
class Streak:
    pass


@dataclass(frozen=True)
class Reopen:
    pass


@dataclass(frozen=True)
class Supervisor:
    priority: Priority


later_changes = st.lists(
    st.one_of(
        st.just(Streak()),
        st.just(Reopen()),
        st.builds(Supervisor, st.sampled_from(PRIORITIES)),
    ),
    max_size=8,
)


def _triage(text: str, tier: str, repeat_count: int) -> TriageDecision:
    return triage(
        subject="投诉",
        description=text,
        language="zh-CN",
        tier=cast(Tier, tier),
        classifier=CLASSIFIER,
        repeat_count=repeat_count,
    )


@settings(deadline=None)  # the first call loads the segmentation dictionary
@given(complaints)
def test_triage_raises_at_most_one_level_whatever_fires(complaint: dict) -> None:
    decision = _triage(**complaint)
    names = [r.rule for r in decision.rules_fired]
    if P1_RULES & set(names):
        assert decision.priority == "P1"
        return
    base = next(BASE_RULES[n] for n in names if n in BASE_RULES)
    raises = [n for n in names if n.startswith("priority.raise.") and n not in _BOOKKEEPING]
    expected = {"P4": "P3", "P3": "P2"}[base] if raises else base
    assert decision.priority == expected, names
    assert RANK[base] - RANK[decision.priority] in (0, 1)


_BOOKKEEPING = {"priority.raise.applied", "priority.raise.none"}


@settings(deadline=None)
@given(complaints, later_changes)
def test_p1_only_by_leak_safety_or_a_supervisor_over_the_whole_life(
    complaint: dict, changes: list[object]
) -> None:
    decision = _triage(**complaint)
    p1_by_rule = bool(P1_RULES & {r.rule for r in decision.rules_fired})
    priority: Priority = decision.priority
    assert (priority == "P1") == p1_by_rule
    supervisor_p1 = False
    for change in changes:
        if isinstance(change, Reopen):
            priority = raise_priority(priority)
        elif isinstance(change, Supervisor):
            priority = change.priority
            supervisor_p1 = change.priority == "P1"
        # Streak: yellow changes no priority (§4 raises for red only).
        if priority == "P1":
            assert supervisor_p1 or p1_by_rule


def test_every_raise_rule_at_once_is_still_one_level() -> None:
    text = "我的退款到现在还没到账，我要去微博曝光，太差了!!!"
    decision = _triage(text, "vip", 4)
    names = [r.rule for r in decision.rules_fired]
    assert {"priority.raise.media_legal", "priority.raise.tier", "priority.raise.repeat"} <= set(
        names
    )
    assert decision.priority == "P2"
