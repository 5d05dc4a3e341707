"""The optional statistical model: train, predict, explain, save/load (skops, refusing
foreign types); the start-up check; routing without scikit-learn; the evaluation's split
and figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest
import skops.io
from complaint_contracts.vocabulary import CATEGORIES, Category
from routing.config import RoutingSettings
from routing.main import create_app
from routing.triage.classifiers import load_classifiers
from routing.triage.cli import main as triage_cli
from routing.triage.domain.classification import KeywordClassifier
from routing.triage.evaluation import evaluate, format_reports, split
from routing.triage.labelled_data import LabelledComplaint, load_labelled
from routing.triage.model import TRUSTED_TYPES, ModelClassifier


def sample(category: str, sub: str, subject: str, description: str = "") -> LabelledComplaint:
    known = cast(Category, category)
    return LabelledComplaint(
        "t", "zh-CN", "standard", subject, description, known, sub, "P3", "blue"
    )


SMALL = [
    sample("billing_refund", "refund_delay", "退款还没到账", "钱一直没退回来"),
    sample("billing_refund", "refund_delay", "Refund still missing", "my money never came back"),
    sample("billing_refund", "overcharge", "扣了两次钱", "同一订单扣款两次"),
    sample("delivery_logistics", "late_delivery", "快递太慢", "包裹一周还没到"),
    sample("delivery_logistics", "late_delivery", "Parcel late", "the parcel is a week late"),
    sample("delivery_logistics", "lost_parcel", "包裹丢了", "快递员说找不到包裹"),
    sample("technical_fault", "app_crash", "应用闪退", "打开应用就闪退"),
    sample("technical_fault", "app_crash", "App crashes", "the app crashes on start"),
]


@pytest.fixture(scope="module")
def model() -> ModelClassifier:
    return ModelClassifier.train(SMALL)


def test_model_predicts_and_explains(model: ModelClassifier) -> None:
    result = model.classify(subject="包裹还没到", description="快递一周了", language="zh-CN")
    assert result.category == "delivery_logistics"
    assert result.subcategory in {"late_delivery", "lost_parcel"}
    assert 0.0 < result.confidence <= 1.0
    assert result.rules_fired[0].rule == "model.delivery_logistics"
    assert "top features" in result.rules_fired[0].detail
    features = model.top_features("包裹还没到\n快递一周了", "delivery_logistics")
    assert features
    assert all(weight > 0 for _, weight in features)


def test_subcategory_stays_within_the_predicted_category(model: ModelClassifier) -> None:
    result = model.classify(subject="App crashes", description="again", language="en")
    assert (result.category, result.subcategory) == ("technical_fault", "app_crash")


def test_save_and_load_give_the_same_answers(model: ModelClassifier, tmp_path: Path) -> None:
    path = tmp_path / "nested" / "model.skops"
    model.save(path)
    loaded = ModelClassifier.load(path)
    for text in ("退款还没到账", "the app crashes", "快递丢了"):
        assert loaded.classify(subject=text, description="", language="zh-CN") == model.classify(
            subject=text, description="", language="zh-CN"
        )


def test_load_refuses_missing_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="routing-triage train"):
        ModelClassifier.load(tmp_path / "absent.skops")
    skops.io.dump({"something": "else"}, tmp_path / "foreign.skops")
    with pytest.raises(ValueError, match="not a triage model"):
        ModelClassifier.load(tmp_path / "foreign.skops")
    # A pickle (what joblib wrote) is not even opened: it could run code on load.
    (tmp_path / "model.joblib").write_bytes(b"\x80\x04\x95not a skops archive")
    with pytest.raises(ValueError, match="not a triage model"):
        ModelClassifier.load(tmp_path / "model.joblib")


class Stranger:
    """A type no triage model holds."""


def test_load_refuses_a_file_holding_any_other_type(model: ModelClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    model.save(path)
    assert set(skops.io.get_untrusted_types(file=path)) <= set(TRUSTED_TYPES)
    skops.io.dump({"format": 2, "category": Stranger()}, tmp_path / "stranger.skops")
    with pytest.raises(ValueError, match="Stranger"):
        ModelClassifier.load(tmp_path / "stranger.skops")


def test_training_needs_two_categories() -> None:
    with pytest.raises(ValueError, match="two categories"):
        ModelClassifier.train(SMALL[:2])


def test_model_mode_without_a_model_fails_at_start_up(tmp_path: Path) -> None:
    settings = RoutingSettings(triage_classifier="model", triage_model_path=tmp_path / "none")
    with pytest.raises(RuntimeError, match="TRIAGE_CLASSIFIER=model: no triage model at"):
        create_app(settings)
    assert load_classifiers(RoutingSettings()).model is None


def test_model_mode_uses_the_model(model: ModelClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    model.save(path)
    provider = load_classifiers(RoutingSettings(triage_classifier="model", triage_model_path=path))
    assert isinstance(provider.model, ModelClassifier)


WITHOUT_SKLEARN = """
import sys
sys.modules.update(dict.fromkeys(["sklearn", "skops", "skops.io"]))  # None: ImportError
from routing.config import RoutingSettings
from routing.main import create_app
from routing.triage.classifiers import load_classifiers
create_app(RoutingSettings())
rules = load_classifiers(RoutingSettings())._keyword_classifier
print(rules.classify(subject="退款还没到账", description="", language="zh-CN").category)
try:
    load_classifiers(RoutingSettings(triage_classifier="model"))
except RuntimeError as exc:
    print(exc)
"""


@pytest.mark.integration  # runs another Python process
def test_routing_runs_on_rules_without_scikit_learn() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_SKLEARN], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    category, refusal = done.stdout.strip().splitlines()
    assert category == "billing_refund"
    assert refusal.startswith("TRIAGE_CLASSIFIER=model needs scikit-learn and skops")


def test_cli_train_writes_a_loadable_model(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    import json

    data.write_text(
        "\n".join(
            json.dumps(
                {
                    "category": s.category,
                    "subcategory": s.subcategory,
                    "subject": s.subject,
                    "description": s.description,
                },
                ensure_ascii=False,
            )
            for s in SMALL
        ),
        encoding="utf-8",
    )
    out = tmp_path / "m.skops"
    assert triage_cli(["train", "--data", str(data), "--out", str(out)]) == 0
    assert ModelClassifier.load(out).trained_on == len(SMALL)
    assert triage_cli(["train", "--data", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2


def test_shipped_labelled_set_covers_every_category() -> None:
    samples = load_labelled()
    assert len(samples) >= 250
    assert {s.category for s in samples} == set(CATEGORIES)
    assert {s.language for s in samples} == {"zh-CN", "en"}
    assert all(s.priority in {"P1", "P2", "P3", "P4"} for s in samples)
    assert all(s.emotion in {"blue", "yellow", "red"} for s in samples)


def test_split_is_stratified_disjoint_and_reproducible() -> None:
    samples = load_labelled()
    train, test = split(samples, seed=7)
    assert len(train) + len(test) == len(samples)
    assert {id(s) for s in train}.isdisjoint({id(s) for s in test})
    assert {s.category for s in test} == set(CATEGORIES)
    assert [s.id for s in split(samples, seed=7)[1]] == [s.id for s in test]
    assert [s.id for s in split(samples, seed=8)[1]] != [s.id for s in test]


def test_evaluation_counts(model: ModelClassifier) -> None:
    report = evaluate(KeywordClassifier(), SMALL)
    assert report.total == len(SMALL)
    assert report.correct == sum(report.confusion[(c, c)] for c in CATEGORIES)
    assert report.correct + len(report.misses) == report.total
    assert report.priority_total == len(SMALL)
    text = format_reports("small", {"rules": report, "model": evaluate(model, SMALL)})
    assert "confusion matrix (rules" in text
    assert "confusion matrix (model" in text


def test_c_is_chosen_by_cross_validation_on_the_training_data(model: ModelClassifier) -> None:
    from routing.triage.model import C_GRID, DEFAULT_C, choose_c

    assert model.choices["C"] in C_GRID
    texts = [s.text for s in SMALL]
    # SMALL has categories with two examples: too few for three folds, two folds it is.
    c, accuracy = choose_c(texts, [s.category for s in SMALL])
    assert c in C_GRID
    assert accuracy is not None
    assert 0.0 <= accuracy <= 1.0
    # A category seen once cannot be cross-validated: the default stands, no score.
    assert choose_c([*texts[:7], "其他"], [s.category for s in SMALL[:7]] + ["other"]) == (
        DEFAULT_C,
        None,
    )


def test_rule_matches_are_features_the_model_can_explain_with(model: ModelClassifier) -> None:
    from routing.triage.model import rule_matches

    matches = rule_matches("退款还没到账\n钱一直没退回来")
    assert matches.get("rules.top=billing_refund") == 1.0
    assert any(name.startswith("rules.rule=billing_refund.") for name in matches)
    assert rule_matches("\n") == {
        "rules.top=other": 1.0,
        "rules.category=other": 1.0,
        "rules.rule=other.no_match": 1.0,
    }
    names = {
        name for name, _ in model.top_features("退款还没到账\n钱一直没退回来", "billing_refund")
    }
    assert names  # features of any kind: words, characters or rule matches
