"""The optional statistical triage model: logistic regression over TF-IDF features
(jieba words, character 1-3-grams) plus the rule classifier's matches as features;
behind the same ``Classifier`` interface as the rules.

Used only with ``TRIAGE_CLASSIFIER=model`` (rules stay the default); scikit-learn and
skops are routing's optional ``model`` extra, imported by this module only (the service
imports it lazily, for that setting or the ``routing-triage`` command). It is trained from
the labelled complaints the project ships (``routing/triage/data/labelled_complaints.jsonl``)
by ``routing-triage train`` and saved with skops, whose format runs no code on load: a
file is loaded only when every type it holds is one of ``TRUSTED_TYPES`` (a pickle, as
joblib writes, would execute whatever it holds). It explains itself the way the rules do:
its "rules fired" are the features that pushed the winning category up most.

Every modelling choice is made on the training data only: the regularisation C is picked
by stratified cross-validation inside ``train`` (never on the held-out split that
``make eval-triage`` reports). The rules are features, not a fallback: the model learns
from the labels how far to trust each rule. Caveat: the rules were themselves tuned on the
training part, so cross-validation cannot tell how much they will be trusted too much.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import sklearn
import skops.io
from complaint_contracts.vocabulary import CATEGORIES, Category
from scipy.sparse import spmatrix
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from routing.triage.domain.classification import Classification, KeywordClassifier
from routing.triage.domain.matching import FiredRule, normalize
from routing.triage.domain.segmentation import segment
from routing.triage.labelled_data import LabelledComplaint

# What a saved model holds beyond the types skops trusts by default (scikit-learn's
# estimators, numpy, scipy, builtins): this module's own feature code, found with
# ``skops.io.get_untrusted_types`` on a trained model. A file naming any other type is
# refused before it is loaded.
TRUSTED_TYPES: tuple[str, ...] = (
    "routing.triage.model.RuleFeatures",
    "routing.triage.model.folded",
    "routing.triage.model.words",
)
FORMAT_VERSION = 2  # 1: the joblib pickle of earlier versions
TOP_FEATURES = 3
# Candidates for the regularisation C, chosen by cross-validation on the training data.
C_GRID = (1.0, 10.0, 100.0)
CV_FOLDS = 3
# Used when a class has too few examples to cross-validate (tiny training sets).
DEFAULT_C = 10.0
CV_SEED = 0


def words(text: str) -> list[str]:
    """The word analyser (module level, so that a saved model can be loaded again)."""
    return segment(normalize(text)).words()


def folded(text: str) -> str:
    """The character n-grams' preprocessor: NFKC, lower case (module level, as ``words``)."""
    return normalize(text).lower()


@lru_cache(maxsize=1)
def _keyword_classifier() -> KeywordClassifier:
    return KeywordClassifier()


def rule_matches(text: str) -> dict[str, float]:
    """What the default rule table says about ``text`` ("subject\ndescription"): its
    winner and every category / sub-category rule that fired, as one-hot features."""
    subject, _, description = text.partition("\n")
    result = _keyword_classifier().classify(subject=subject, description=description, language="")
    found = {f"rules.top={result.category}": 1.0}
    for fired in result.rules_fired:
        parts = fired.rule.split(".")
        if len(parts) >= 3 and parts[0] == "category" and parts[1] in CATEGORIES:
            found[f"rules.category={parts[1]}"] = 1.0
            found[f"rules.rule={parts[1]}.{parts[2]}"] = 1.0
    return found


class RuleFeatures(BaseEstimator, TransformerMixin):
    """The rule matches as a sparse matrix, so that the model can weigh each rule."""

    def fit(self, texts: Sequence[str], _labels: object = None) -> RuleFeatures:
        self.vectorizer_ = DictVectorizer().fit([rule_matches(t) for t in texts])
        return self

    def transform(self, texts: Sequence[str]) -> spmatrix:
        return self.vectorizer_.transform([rule_matches(t) for t in texts])

    def get_feature_names_out(self, _input_features: object = None) -> Any:
        return self.vectorizer_.get_feature_names_out()


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 3),
                    preprocessor=folded,
                    sublinear_tf=True,
                ),
            ),
            ("rules", RuleFeatures()),
        ]
    )


def _regression(c: float) -> LogisticRegression:
    # Balanced: the small categories (other, privacy) would otherwise be under-predicted.
    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)


def _pipeline(c: float) -> Pipeline:
    return Pipeline([("features", _features()), ("model", _regression(c))])


def choose_c(texts: Sequence[str], labels: Sequence[str]) -> tuple[float, float | None]:
    """(C, mean cross-validated accuracy) by stratified k-fold on the given training data
    only. Features are fitted once per fold and shared by every candidate C, to keep
    training within seconds."""
    counts = Counter(labels)
    folds = min(CV_FOLDS, min(counts.values()))
    if folds < 2:
        return DEFAULT_C, None
    y = np.array(labels)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=CV_SEED)
    scores: dict[float, list[float]] = {c: [] for c in C_GRID}
    for train_rows, check_rows in splitter.split(np.zeros(len(y)), y):
        features = _features().fit([texts[i] for i in train_rows])
        fitted = features.transform([texts[i] for i in train_rows])
        checked = features.transform([texts[i] for i in check_rows])
        for c in C_GRID:
            predicted = _regression(c).fit(fitted, y[train_rows]).predict(checked)
            scores[c].append(float(np.mean(predicted == y[check_rows])))
    # Ties go to the smaller C (stronger regularisation): less to memorise.
    best = max(C_GRID, key=lambda c: (round(float(np.mean(scores[c])), 6), -c))
    return best, float(np.mean(scores[best]))


class ModelClassifier:
    """A trained model; ``classify`` is the ``Classifier`` protocol."""

    def __init__(
        self,
        *,
        category: Pipeline,
        subcategory: Pipeline,
        trained_on: int,
        choices: dict[str, float | None] | None = None,
    ) -> None:
        self.category_pipeline = category
        self.subcategory_pipeline = subcategory
        self.trained_on = trained_on
        # What cross-validation on the training data chose (C, and its CV accuracy).
        self.choices = choices or {}

    @classmethod
    def train(cls, samples: Sequence[LabelledComplaint]) -> ModelClassifier:
        if len({s.category for s in samples}) < 2:
            raise ValueError("training needs examples of at least two categories")
        texts = [s.text for s in samples]
        labels = [str(s.category) for s in samples]
        c, cv_accuracy = choose_c(texts, labels)
        category = _pipeline(c).fit(texts, labels)
        # One model over "category/subcategory": at prediction time only the predicted
        # category's sub-categories compete. It shares the category model's C: too few
        # examples per sub-category to cross-validate it on its own.
        pairs = [f"{s.category}/{s.subcategory or ''}" for s in samples]
        subcategory = _pipeline(c) if len(set(pairs)) > 1 else None
        if subcategory is not None:
            subcategory.fit(texts, pairs)
        return cls(
            category=category,
            subcategory=subcategory or category,
            trained_on=len(samples),
            choices={"C": c, "cv_accuracy": cv_accuracy},
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT_VERSION,
            "sklearn": sklearn.__version__,
            "category": self.category_pipeline,
            "subcategory": self.subcategory_pipeline,
            "trained_on": self.trained_on,
            "choices": self.choices,
        }
        skops.io.dump(payload, path)

    @classmethod
    def load(cls, path: Path) -> ModelClassifier:
        """The model saved at ``path``. Refuses (``ValueError``) a file that holds any type
        a triage model does not, before anything in it is built, and a file of another
        format."""
        if not path.is_file():
            raise FileNotFoundError(
                f"no triage model at {path}: run `routing-triage train` "
                "(or set TRIAGE_CLASSIFIER=rules)"
            )
        try:
            untrusted = set(skops.io.get_untrusted_types(file=path))
        except Exception as exc:  # not a skops file at all (e.g. an old joblib pickle)
            raise ValueError(
                f"{path} is not a triage model of format {FORMAT_VERSION}: {exc}"
            ) from exc
        unexpected = sorted(untrusted - set(TRUSTED_TYPES))
        if unexpected:
            raise ValueError(
                f"{path} is not a triage model of format {FORMAT_VERSION}: it holds types "
                f"a triage model does not ({', '.join(unexpected)}); refusing to load it"
            )
        payload = skops.io.load(path, trusted=list(TRUSTED_TYPES))
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path} is not a triage model of format {FORMAT_VERSION}")
        return cls(
            category=payload["category"],
            subcategory=payload["subcategory"],
            trained_on=int(payload["trained_on"]),
            choices=payload.get("choices"),
        )

    def classify(
        self,
        *,
        subject: str,
        description: str,
        language: str,  # noqa: ARG002 (the Classifier protocol; the model reads every language)
    ) -> Classification:
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
