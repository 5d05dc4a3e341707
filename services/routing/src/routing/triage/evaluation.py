"""How well triage does on labelled complaints: rules and model side by side.

``make eval-triage`` prints, for a held-out split of the shipped labelled set (fixed seed;
the model is trained on the rest) and for any further labelled file (the repository's
test fixtures): accuracy overall and per category (precision / recall), sub-category
accuracy, priority accuracy (classifier + the §4 emotion and priority rules) with precision
/ recall per priority and a priority confusion matrix, a category confusion matrix, and the
examples the rules still get wrong.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from complaint_contracts.vocabulary import CATEGORIES, PRIORITIES, Tier

from routing.triage.domain.classification import Classifier
from routing.triage.domain.triage import triage
from routing.triage.labelled_data import LabelledComplaint

DEFAULT_SEED = 20261129
DEFAULT_TEST_FRACTION = 0.25
_SHORT = {
    "product_quality": "quality",
    "service_attitude": "attitude",
    "delivery_logistics": "delivery",
    "billing_refund": "billing",
    "privacy_data_leak": "privacy",
    "technical_fault": "technical",
    "process_policy": "policy",
    "other": "other",
}


def split(
    samples: Sequence[LabelledComplaint],
    *,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    seed: int = DEFAULT_SEED,
) -> tuple[list[LabelledComplaint], list[LabelledComplaint]]:
    """(train, test), stratified by category so that every category is in both."""
    by_category: dict[str, list[LabelledComplaint]] = defaultdict(list)
    for sample in samples:
        by_category[sample.category].append(sample)
    rng = random.Random(seed)  # noqa: S311 (a reproducible split, not a secret)
    train: list[LabelledComplaint] = []
    test: list[LabelledComplaint] = []
    for category in sorted(by_category):
        group = list(by_category[category])
        rng.shuffle(group)
        held = max(1, round(len(group) * test_fraction)) if len(group) > 1 else 0
        test.extend(group[:held])
        train.extend(group[held:])
    return train, test


def load_fixtures(path: Path) -> list[LabelledComplaint]:
    """The intake-shaped fixture file: ``expected`` holds category and priority."""
    found: list[LabelledComplaint] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        expected = row["expected"]
        customer = row.get("customer", {})
        found.append(
            LabelledComplaint(
                id=f"{path.name}:{number}",
                language=customer.get("language", "zh-CN"),
                tier=customer.get("tier", "standard"),
                subject=row.get("subject", ""),
                description=row.get("description", ""),
                category=expected["category"],
                subcategory=expected.get("subcategory"),
                priority=expected.get("priority", ""),
                emotion=expected.get("emotion", ""),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Miss:
    sample: LabelledComplaint
    predicted: str
    predicted_subcategory: str | None


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    subcategory_total: int = 0
    subcategory_correct: int = 0
    priority_total: int = 0
    priority_correct: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (labelled priority, decided priority), for the samples labelled with a priority.
    priority_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[Miss] = field(default_factory=list)
    # Right category, wrong (or no) sub-category.
    subcategory_misses: list[Miss] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def precision(self, category: str) -> float | None:
        return _precision(self.confusion, category)

    def recall(self, category: str) -> float | None:
        return _recall(self.confusion, category)

    def priority_precision(self, priority: str) -> float | None:
        return _precision(self.priority_confusion, priority)

    def priority_recall(self, priority: str) -> float | None:
        return _recall(self.priority_confusion, priority)


def _precision(confusion: Counter[tuple[str, str]], label: str) -> float | None:
    predicted = sum(n for (_, p), n in confusion.items() if p == label)
    return confusion[(label, label)] / predicted if predicted else None


def _recall(confusion: Counter[tuple[str, str]], label: str) -> float | None:
    actual = sum(n for (a, _), n in confusion.items() if a == label)
    return confusion[(label, label)] / actual if actual else None


def evaluate(classifier: Classifier, samples: Sequence[LabelledComplaint]) -> Report:
    report = Report()
    for sample in samples:
        decision = triage(
            subject=sample.subject,
            description=sample.description,
            language=sample.language,
            tier=cast(Tier, sample.tier),
            classifier=classifier,
        )
        report.total += 1
        report.confusion[(sample.category, decision.category)] += 1
        if decision.category == sample.category:
            report.correct += 1
        else:
            report.misses.append(Miss(sample, decision.category, decision.subcategory))
        if sample.subcategory:
            report.subcategory_total += 1
            expected = (sample.category, sample.subcategory)
            if (decision.category, decision.subcategory) == expected:
                report.subcategory_correct += 1
            elif decision.category == sample.category:
                miss = Miss(sample, decision.category, decision.subcategory)
                report.subcategory_misses.append(miss)
        if sample.priority:
            report.priority_total += 1
            report.priority_correct += decision.priority == sample.priority
            report.priority_confusion[(sample.priority, decision.priority)] += 1
    return report


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def _ratio(correct: int, total: int) -> str:
    return f"{correct}/{total} ({100 * correct / total:.1f}%)" if total else "n/a"


def format_reports(title: str, reports: dict[str, Report]) -> str:
    names = list(reports)
    lines = [f"== {title} ==", ""]
    lines.append(f"{'':24}" + "".join(f"{name:>28}" for name in names))
    for label, get in (
        ("category accuracy", lambda r: _ratio(r.correct, r.total)),
        ("sub-category accuracy", lambda r: _ratio(r.subcategory_correct, r.subcategory_total)),
        ("priority accuracy", lambda r: _ratio(r.priority_correct, r.priority_total)),
    ):
        lines.append(f"{label:24}" + "".join(f"{get(reports[n]):>28}" for n in names))
    lines.append("")
    header = "".join(f"{n + ' P':>14}{n + ' R':>14}" for n in names)
    lines.append(f"{'per category':24}{header}   n")
    for category in CATEGORIES:
        support = sum(
            count
            for (actual, _), count in reports[names[0]].confusion.items()
            if actual == category
        )
        cells = "".join(
            f"{_pct(reports[n].precision(category)):>14}{_pct(reports[n].recall(category)):>14}"
            for n in names
        )
        lines.append(f"{category:24}{cells}{support:4}")
    lines.extend(["", *format_priorities(reports)])
    for name in names:
        lines.extend(["", f"confusion matrix ({name}; rows actual, columns predicted)"])
        lines.append(f"{'':11}" + "".join(f"{_SHORT[c]:>10}" for c in CATEGORIES))
        for actual in CATEGORIES:
            row = "".join(
                f"{reports[name].confusion[(actual, predicted)]:>10}" for predicted in CATEGORIES
            )
            lines.append(f"{_SHORT[actual]:11}{row}")
    return "\n".join(lines)


def format_priorities(reports: dict[str, Report]) -> list[str]:
    """Precision / recall per priority side by side, then a priority confusion matrix per
    classifier (the priority is the classifier's category through the §4 rules)."""
    names = list(reports)
    header = "".join(f"{n + ' P':>14}{n + ' R':>14}" for n in names)
    lines = [f"{'per priority':24}{header}   n"]
    for priority in PRIORITIES:
        support = sum(
            count
            for (actual, _), count in reports[names[0]].priority_confusion.items()
            if actual == priority
        )
        cells = "".join(
            f"{_pct(reports[n].priority_precision(priority)):>14}"
            f"{_pct(reports[n].priority_recall(priority)):>14}"
            for n in names
        )
        lines.append(f"{priority:24}{cells}{support:4}")
    for name in names:
        lines.extend(["", f"priority confusion ({name}; rows labelled, columns decided)"])
        lines.append(f"{'':6}" + "".join(f"{p:>6}" for p in PRIORITIES))
        for actual in PRIORITIES:
            row = "".join(
                f"{reports[name].priority_confusion[(actual, decided)]:>6}"
                for decided in PRIORITIES
            )
            lines.append(f"{actual:6}{row}")
    return lines


def format_misses(title: str, report: Report, *, subcategories: bool = False) -> str:
    """The category misses; with ``subcategories`` also the right-category, wrong
    sub-category ones (listed for the training part only, see ``--train-only``)."""
    misses = report.misses + (report.subcategory_misses if subcategories else [])
    lines = [f"-- {title}: {len(misses)} misclassified --"]
    for miss in misses:
        sample = miss.sample
        text = f"{sample.subject} | {sample.description}".replace("\n", " ")
        predicted = miss.predicted + (
            f"/{miss.predicted_subcategory}" if miss.predicted_subcategory else ""
        )
        expected = sample.category + (f"/{sample.subcategory}" if sample.subcategory else "")
        lines.append(f"  [{sample.id}] expected {expected}, got {predicted}: {text[:110]}")
    return "\n".join(lines)
