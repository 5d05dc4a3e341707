"""The labelled complaints triage is trained and evaluated on: the set shipped inside the
package (``routing/triage/data/labelled_complaints.jsonl``) or another JSONL file in the
same shape. Plain data, no scikit-learn: the evaluation of the rules needs it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from complaint_contracts.vocabulary import CATEGORIES, Category


@dataclass(frozen=True, slots=True)
class LabelledComplaint:
    id: str
    language: str
    tier: str
    subject: str
    description: str
    category: Category
    subcategory: str | None
    priority: str
    emotion: str

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.description}"


def load_labelled(path: Path | None = None) -> list[LabelledComplaint]:
    """The shipped labelled set, or another JSONL file in the same shape."""
    if path is None:
        source = resources.files("routing.triage.data").joinpath("labelled_complaints.jsonl")
        lines = source.read_text(encoding="utf-8").splitlines()
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
    found: list[LabelledComplaint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["category"] not in CATEGORIES:
            raise ValueError(f"line {number}: unknown category {row['category']!r}")
        found.append(
            LabelledComplaint(
                id=str(row.get("id", number)),
                language=row.get("language", "zh-CN"),
                tier=row.get("tier", "standard"),
                subject=row.get("subject", ""),
                description=row.get("description", ""),
                category=row["category"],
                subcategory=row.get("subcategory"),
                priority=row.get("priority", ""),
                emotion=row.get("emotion", ""),
            )
        )
    return found
