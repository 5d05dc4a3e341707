"""Triage end to end on the project's labelled sample set (tests/fixtures/complaints.jsonl)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from complaint_contracts.events.routing import ComplaintTriaged
from complaint_contracts.events.routing import FiredRule as ContractFiredRule
from complaint_contracts.privacy import find_contacts
from complaint_contracts.vocabulary import CATEGORIES, CHANNELS, PRIORITIES
from routing.triage.domain.classification import Classification, KeywordClassifier
from routing.triage.domain.matching import FiredRule
from routing.triage.domain.triage import TriageDecision, triage


def _repo_root() -> Path:
    for folder in Path(__file__).resolve().parents:
        if (folder / "uv.lock").exists():
            return folder
    raise RuntimeError("no uv.lock above the test file")


FIXTURE = _repo_root() / "tests" / "fixtures" / "complaints.jsonl"
SAMPLES: list[dict[str, Any]] = [
    json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()
]
CLASSIFIER = KeywordClassifier()


def run(sample: dict[str, Any]) -> TriageDecision:
    return triage(
        subject=sample["subject"],
        description=sample["description"],
        language=sample["customer"]["language"],
        tier=sample["customer"]["tier"],
        classifier=CLASSIFIER,
    )


IDS = [f"{i + 1:02d}-{s['customer']['external_ref']}" for i, s in enumerate(SAMPLES)]


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_triage_matches_the_label(sample: dict[str, Any]) -> None:
    decision = run(sample)
    got = {
        "category": decision.category,
        "priority": decision.priority,
        "emotion": decision.emotion,
    }
    assert got == sample["expected"], [(r.rule, r.detail) for r in decision.rules_fired]


def test_rules_come_in_order_category_emotion_priority() -> None:
    decision = run(SAMPLES[0])
    prefixes = [r.rule.split(".")[0] for r in decision.rules_fired]
    assert prefixes == sorted(prefixes, key=["category", "emotion", "priority"].index)
    assert set(prefixes) == {"category", "emotion", "priority"}


def test_the_classifier_can_be_swapped() -> None:
    class Fixed:
        def classify(self, *, subject: str, description: str, language: str) -> Classification:
            return Classification("privacy_data_leak", None, 0.9, (FiredRule("model.v1", "p=0.9"),))

    decision = triage(
        subject="hi", description="hello", language="en", tier="standard", classifier=Fixed()
    )
    assert (decision.category, decision.priority, decision.confidence) == (
        "privacy_data_leak",
        "P1",
        0.9,
    )
    assert decision.rules_fired[0] == FiredRule("model.v1", "p=0.9")


def test_repeat_count_reaches_the_priority() -> None:
    sample = SAMPLES[0]
    decision = triage(
        subject=sample["subject"],
        description=sample["description"],
        language="zh-CN",
        tier="standard",
        classifier=CLASSIFIER,
        repeat_count=2,
    )
    assert "priority.raise.repeat" in [r.rule for r in decision.rules_fired]


def test_decisions_fit_the_triaged_event_and_never_quote_contacts() -> None:
    for sample in SAMPLES:
        decision = run(sample)
        for rule in decision.rules_fired:
            assert not find_contacts(rule.detail), rule
        ComplaintTriaged(
            complaint_id="0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b",
            category=decision.category,
            subcategory=decision.subcategory,
            confidence=decision.confidence,
            priority=decision.priority,
            emotion=decision.emotion,
            rules_fired=tuple(
                ContractFiredRule(rule=r.rule, detail=r.detail) for r in decision.rules_fired
            ),
        )


# -- the sample set itself covers what the brief asks for

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def test_fixture_coverage() -> None:
    assert len(SAMPLES) >= 32
    categories = Counter(s["expected"]["category"] for s in SAMPLES)
    priorities = Counter(s["expected"]["priority"] for s in SAMPLES)
    assert all(categories[c] >= 3 for c in CATEGORIES), categories
    assert all(priorities[p] >= 4 for p in PRIORITIES), priorities
    assert {s["channel"] for s in SAMPLES} == set(CHANNELS)
    assert {s["customer"]["tier"] for s in SAMPLES} == {"standard", "silver", "gold", "vip"}
    assert {s["expected"]["emotion"] for s in SAMPLES} == {"blue", "yellow", "red"}
    chinese = sum(s["customer"]["language"] == "zh-CN" for s in SAMPLES) / len(SAMPLES)
    assert 0.5 <= chinese <= 0.7
    assert sum(bool(find_contacts(s["description"])) for s in SAMPLES) >= 3


def test_fixture_contacts_are_well_formed() -> None:
    for sample in SAMPLES:
        customer = sample["customer"]
        if "phone" in customer:
            assert E164.match(customer["phone"]), customer
        if "email" in customer:
            assert customer["email"].split("@")[1].startswith("example."), customer
