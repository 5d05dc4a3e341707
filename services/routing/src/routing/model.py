"""The optional statistical triage model: TF-IDF over jieba words and character n-grams,
then logistic regression; behind the same ``Classifier`` interface as the rules.

Used only with ``TRIAGE_CLASSIFIER=model`` (rules stay the default). It is trained from
the labelled complaints the project ships (``routing/data/labelled_complaints.jsonl``) by
``routing-triage train`` and saved with joblib. It explains itself the way the rules do:
its "rules fired" are the features that pushed the winning category up most.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import joblib
import numpy as np
import sklearn
from complaint_contracts.vocabulary import CATEGORIES, Category
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from routing.domain.classification import Classification
from routing.domain.rules import FiredRule, normalize
from routing.domain.segmentation import segment

FORMAT_VERSION = 1
TOP_FEATURES = 3
# The labelled set is small; beyond a point the model would memorise it.
REGULARISATION_C = 100.0


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
        source = resources.files("routing.data").joinpath("labelled_complaints.jsonl")
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


def words(text: str) -> list[str]:
    """The word analyser (module level, so that a saved model can be loaded again)."""
    return segment(normalize(text)).words()


def _pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True),
            ),
        ]
    )
    model = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
    return Pipeline([("features", features), ("model", model)])


class ModelClassifier:
    """A trained model; ``classify`` is the ``Classifier`` protocol."""

    def __init__(self, *, category: Pipeline, subcategory: Pipeline, trained_on: int) -> None:
        self.category_pipeline = category
        self.subcategory_pipeline = subcategory
        self.trained_on = trained_on

    @classmethod
    def train(cls, samples: Sequence[LabelledComplaint]) -> ModelClassifier:
        if len({s.category for s in samples}) < 2:
            raise ValueError("training needs examples of at least two categories")
        texts = [s.text for s in samples]
        category = _pipeline().fit(texts, [s.category for s in samples])
        # One model over "category/subcategory": at prediction time only the predicted
        # category's sub-categories compete.
        pairs = [f"{s.category}/{s.subcategory or ''}" for s in samples]
        subcategory = _pipeline() if len(set(pairs)) > 1 else None
        if subcategory is not None:
            subcategory.fit(texts, pairs)
        return cls(
            category=category,
            subcategory=subcategory or category,
            trained_on=len(samples),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT_VERSION,
            "sklearn": sklearn.__version__,
            "category": self.category_pipeline,
            "subcategory": self.subcategory_pipeline,
            "trained_on": self.trained_on,
        }
        joblib.dump(payload, path)

    @classmethod
    def load(cls, path: Path) -> ModelClassifier:
        if not path.is_file():
            raise FileNotFoundError(
                f"no triage model at {path}: run `routing-triage train` "
                "(or set TRIAGE_CLASSIFIER=rules)"
            )
        payload = joblib.load(path)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path} is not a triage model of format {FORMAT_VERSION}")
        return cls(
            category=payload["category"],
            subcategory=payload["subcategory"],
            trained_on=int(payload["trained_on"]),
        )

    def classify(self, *, subject: str, description: str, language: str) -> Classification:
        text = f"{subject}\n{description}"
        pipeline = self.category_pipeline
        probabilities = pipeline.predict_proba([text])[0]
        classes = [str(c) for c in pipeline.classes_]
        best = int(np.argmax(probabilities))
        category = cast(Category, classes[best])
        confidence = round(float(probabilities[best]), 2)
        subcategory = self._subcategory(text, category)
        explanation = ", ".join(
            f"'{name}' {weight:+.2f}" for name, weight in self.top_features(text, category)
        )
        rules = (
            FiredRule(f"model.{category}", f"p={confidence:.2f}; top features {explanation}"),
            FiredRule("model.trained_on", f"{self.trained_on} labelled complaints"),
        )
        return Classification(category, subcategory, confidence, rules)

    def _subcategory(self, text: str, category: str) -> str | None:
        pipeline = self.subcategory_pipeline
        if pipeline is self.category_pipeline:
            return None
        probabilities = pipeline.predict_proba([text])[0]
        prefix = f"{category}/"
        ranked = sorted(
            (
                (float(p), str(c))
                for p, c in zip(probabilities, pipeline.classes_, strict=True)
                if str(c).startswith(prefix)
            ),
            reverse=True,
        )
        if not ranked:
            return None
        return ranked[0][1][len(prefix) :] or None

    def top_features(self, text: str, category: str) -> list[tuple[str, float]]:
        """The features contributing most to ``category`` (tf-idf value x coefficient)."""
        features = cast(FeatureUnion, self.category_pipeline.named_steps["features"])
        model = cast(LogisticRegression, self.category_pipeline.named_steps["model"])
        vector = features.transform([text]).tocsr()
        names = _feature_names(features)
        classes = [str(c) for c in model.classes_]
        # Binary logistic regression keeps one row of coefficients, for classes_[1].
        if model.coef_.shape[0] == 1:
            sign = 1.0 if category == classes[1] else -1.0
            coefficients = sign * model.coef_[0]
        else:
            coefficients = model.coef_[classes.index(category)]
        contributions = [
            (names[index], float(value * coefficients[index]))
            for index, value in zip(vector.indices, vector.data, strict=True)
        ]
        contributions.sort(key=lambda item: -item[1])
        return [(name.strip() or name, round(c, 2)) for name, c in contributions[:TOP_FEATURES]]


def _feature_names(features: FeatureUnion) -> list[str]:
    names: list[str] = []
    for _, vectorizer in cast(Iterable[tuple[str, Any]], features.transformer_list):
        names.extend(str(n) for n in vectorizer.get_feature_names_out())
    return names
