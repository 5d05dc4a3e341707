"""``routing-triage``: retrain the optional triage model, and evaluate rules against it.

    routing-triage train [--data FILE] [--out FILE]    # default out: TRIAGE_MODEL_PATH
    routing-triage eval [--fixtures FILE ...]           # what `make eval-triage` runs
    routing-triage eval --train-only                    # tune rules: training part only

Both run offline, from the labelled set shipped inside the package.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from routing.config import RoutingSettings
from routing.triage.domain import segmentation
from routing.triage.domain.classification import KeywordClassifier
from routing.triage.evaluation import (
    DEFAULT_SEED,
    evaluate,
    format_misses,
    format_reports,
    load_fixtures,
    split,
)
from routing.triage.labelled_data import LabelledComplaint, load_labelled

if TYPE_CHECKING:
    from routing.triage.model import ModelClassifier


def _train_model(samples: Sequence[LabelledComplaint]) -> ModelClassifier:
    """The model, trained; scikit-learn and skops (routing's ``model`` extra) load here."""
    try:
        from routing.triage.model import ModelClassifier
    except ImportError as exc:
        raise ValueError(
            f"the triage model needs routing's `model` extra (scikit-learn, skops): {exc}"
        ) from exc
    return ModelClassifier.train(samples)


def _train(args: argparse.Namespace) -> int:
    samples = load_labelled(args.data)
    out: Path = args.out or RoutingSettings().triage_model_path
    started = time.perf_counter()
    model = _train_model(samples)
    model.save(out)
    took = time.perf_counter() - started
    print(f"trained on {len(samples)} labelled complaints in {took:.1f} s; saved {out}")
    print(_choices(model))
    return 0


def _choices(model: ModelClassifier) -> str:
    c = model.choices.get("C")
    accuracy = model.choices.get("cv_accuracy")
    cv = "n/a" if accuracy is None else f"{100 * accuracy:.1f}%"
    # The rules are features and were tuned on these same examples: the figure flatters.
    return f"model C={c} (cross-validated on the training data only: {cv}, optimistic)"


def _eval_train_only(train: list[LabelledComplaint]) -> int:
    """Rules on the training part only, every category and sub-category miss listed:
    what to tune the rules on without ever seeing the held-out split."""
    report = evaluate(KeywordClassifier(), train)
    print(format_reports(f"training part of the labelled set ({len(train)})", {"rules": report}))
    print()
    print(format_misses("rules, training part", report, subcategories=True))
    return 0


def _eval(args: argparse.Namespace) -> int:
    seconds = segmentation.initialise()
    print(f"jieba initialisation: {seconds:.2f} s (once per process, at start-up)")
    samples = load_labelled(args.data)
    train, test = split(samples, seed=args.seed)
    if args.train_only:
        return _eval_train_only(train)
    rules = KeywordClassifier()
    started = time.perf_counter()
    model = _train_model(train)
    print(
        f"labelled set: {len(samples)} complaints; model trained on {len(train)} "
        f"in {time.perf_counter() - started:.1f} s, held out {len(test)} (seed {args.seed})"
    )
    print(_choices(model) + "\n")
    held_out = {"rules": evaluate(rules, test), "model": evaluate(model, test)}
    print(format_reports(f"held-out split of the labelled set ({len(test)})", held_out))
    print()
    print(format_misses("rules, held-out split", held_out["rules"]))
    for path in args.fixtures:
        fixtures = load_fixtures(path)
        reports = {"rules": evaluate(rules, fixtures), "model": evaluate(model, fixtures)}
        print()
        print(format_reports(f"{path} ({len(fixtures)})", reports))
        print()
        print(format_misses(f"rules, {path.name}", reports["rules"]))
    everything = evaluate(rules, samples)
    print()
    print(format_misses(f"rules, whole labelled set ({len(samples)})", everything))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="routing-triage")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="Retrain the triage model and save it")
    train.add_argument("--data", type=Path, default=None, help="Labelled JSONL (default: shipped)")
    train.add_argument("--out", type=Path, default=None, help="Default: TRIAGE_MODEL_PATH")
    train.set_defaults(run=_train)
    check = commands.add_parser("eval", help="Rules and model side by side")
    check.add_argument("--data", type=Path, default=None, help="Labelled JSONL (default: shipped)")
    check.add_argument("--fixtures", type=Path, nargs="*", default=[], help="More labelled files")
    check.add_argument("--seed", type=int, default=DEFAULT_SEED)
    check.add_argument(
        "--train-only",
        action="store_true",
        help="Rules on the training part only, listing its misses (for tuning the rules)",
    )
    check.set_defaults(run=_eval)
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except (OSError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
