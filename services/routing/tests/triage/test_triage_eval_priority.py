"""The evaluation's per-priority figures: precision / recall per priority and the
priority confusion matrix, for rules and model side by side."""

from __future__ import annotations

from complaint_contracts.vocabulary import PRIORITIES, Category, Priority
from routing.triage.domain.classification import Classification
from routing.triage.domain.matching import FiredRule
from routing.triage.evaluation import Report, evaluate, format_priorities, format_reports
from routing.triage.labelled_data import LabelledComplaint


class Always:
    """A classifier that answers one category whatever the text."""

    def __init__(self, category: Category) -> None:
        self.category = category

    def classify(self, *, subject: str, description: str, language: str) -> Classification:
        return Classification(self.category, None, 0.9, (FiredRule("test.always", ""),))


def labelled(text: str, category: Category, priority: Priority | str) -> LabelledComplaint:
    return LabelledComplaint("t", "zh-CN", "standard", text, "", category, None, priority, "blue")


# One plain text (no leak, safety, escalation or emotion words; standard tier), so that
# the decided priority follows from the classifier's category alone: P1 for a privacy
# leak, P3 for delivery. The labels differ, as a real labelled set's would.
SAMPLES = [
    labelled("包裹迟到", "other", "P4"),
    labelled("包裹迟到", "privacy_data_leak", "P1"),
    labelled("包裹迟到", "delivery_logistics", "P3"),
    labelled("包裹迟到", "delivery_logistics", "P3"),
    labelled("包裹迟到", "delivery_logistics", ""),
]


def test_priority_confusion_counts_labelled_against_decided() -> None:
    report = evaluate(Always("delivery_logistics"), SAMPLES)
    assert report.priority_total == 4  # the unlabelled one is left out
    assert sum(report.priority_confusion.values()) == report.priority_total
    correct = sum(report.priority_confusion[(p, p)] for p in PRIORITIES)
    assert correct == report.priority_correct
    # Everything is delivery: P3 is decided for every labelled sample.
    assert report.priority_confusion[("P3", "P3")] == 2
    assert report.priority_confusion[("P1", "P3")] == 1
    assert report.priority_confusion[("P4", "P3")] == 1
    assert report.priority_precision("P3") == 0.5
    assert report.priority_recall("P3") == 1.0
    assert report.priority_recall("P1") == 0.0
    assert report.priority_precision("P1") is None  # never decided: no precision
    assert report.priority_recall("P2") is None  # never labelled: no recall


def test_priority_table_and_matrices_are_printed_side_by_side() -> None:
    reports = {
        "rules": evaluate(Always("delivery_logistics"), SAMPLES),
        "model": evaluate(Always("privacy_data_leak"), SAMPLES),
    }
    lines = format_priorities(reports)
    assert lines[0].startswith("per priority")
    assert "rules P" in lines[0]
    assert "model R" in lines[0]
    p3 = next(line for line in lines if line.startswith("P3 "))
    # rules: precision 50.0%, recall 100.0%; model decides P1 everywhere: no P3 at all.
    assert p3.split() == ["P3", "50.0%", "100.0%", "-", "0.0%", "2"]
    assert "priority confusion (rules; rows labelled, columns decided)" in lines
    assert "priority confusion (model; rows labelled, columns decided)" in lines
    start = lines.index("priority confusion (model; rows labelled, columns decided)")
    matrix = {row.split()[0]: row.split()[1:] for row in lines[start + 2 : start + 6]}
    assert matrix["P1"] == ["1", "0", "0", "0"]
    assert matrix["P3"] == ["2", "0", "0", "0"]
    assert matrix["P4"] == ["1", "0", "0", "0"]
    assert "per priority" in format_reports("t", reports)


def test_an_empty_report_prints_without_dividing_by_zero() -> None:
    lines = format_priorities({"rules": Report()})
    assert any(line.startswith("P1") and "-" in line for line in lines)
