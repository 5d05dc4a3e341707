"""ComplaintIn: every realistic complaint passes; anything unbounded or malformed is refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intake.complaints.schemas import ComplaintIn
from pydantic import ValidationError


def _repo_root() -> Path:
    for folder in Path(__file__).resolve().parents:
        if (folder / "uv.lock").is_file():
            return folder
    raise RuntimeError("no uv.lock above the tests")


FIXTURES = _repo_root() / "tests" / "fixtures" / "complaints.jsonl"


def _fixtures() -> list[dict[str, Any]]:
    lines = [line for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]
    complaints = []
    for line in lines:
        complaint = json.loads(line)
        complaint.pop("expected", None)
        complaints.append(complaint)
    return complaints


ATTACHMENT = {
    "url": "https://files.example.com/a/receipt.jpg",
    "media_type": "image/jpeg",
    "size": 1,
}
VALID: dict[str, Any] = {
    "channel": "web",
    "customer": {"customer_id": "CRM-1", "phone": "+8613812345678", "email": "a@example.com"},
    "subject": "Refund missing",
    "description": "I returned the order a month ago.\n\tStill no refund.",
    "order_ref": "ORD-1",
    "occurred_at": "2026-11-23T10:00:00+08:00",
    "attachments": [ATTACHMENT],
    "metadata": {"campaign": "double-11"},
}


def test_fixture_file_is_not_empty() -> None:
    assert len(_fixtures()) >= 30


@pytest.mark.parametrize("complaint", _fixtures(), ids=lambda c: c["customer"].get("external_ref"))
def test_every_fixture_is_accepted(complaint: dict[str, Any]) -> None:
    parsed = ComplaintIn.model_validate(complaint)
    assert parsed.channel == complaint["channel"]
    assert parsed.subject == complaint["subject"]
    assert parsed.description == complaint["description"]
    assert parsed.customer.identity == complaint["customer"].get("external_ref")


def test_the_valid_example_is_accepted() -> None:
    parsed = ComplaintIn.model_validate(VALID)
    assert parsed.occurred_at is not None
    assert parsed.occurred_at.utcoffset() is not None
    assert parsed.attachments[0].url == ATTACHMENT["url"]
    assert parsed.metadata == {"campaign": "double-11"}
    assert "\n\t" in parsed.description  # tab and newline are allowed


def test_minimal_complaint_gets_defaults() -> None:
    parsed = ComplaintIn.model_validate(
        {
            "channel": "phone",
            "customer": {"phone": "138 1234 5678"},
            "subject": "s",
            "description": "d",
        }
    )
    assert parsed.attachments == []
    assert parsed.metadata == {}
    assert parsed.customer.language == "zh-CN"
    assert parsed.customer.tier == "standard"


@pytest.mark.parametrize(
    "customer",
    [
        {"customer_id": "CRM-1"},
        {"external_ref": "fx-1"},
        {"phone": "+8613812345678"},
        {"email": "a@example.com"},
    ],
)
def test_any_one_identifier_is_enough(customer: dict[str, str]) -> None:
    ComplaintIn.model_validate({**VALID, "customer": customer})


def test_occurred_at_in_utc_is_accepted() -> None:
    ComplaintIn.model_validate({**VALID, "occurred_at": "2026-11-23T02:00:00Z"})


def test_longest_allowed_texts() -> None:
    parsed = ComplaintIn.model_validate(
        {
            **VALID,
            "subject": "s" * 200,
            "description": "d" * 10_000,
            "attachments": [ATTACHMENT] * 10,
            "metadata": {f"k{i}": "v" * 500 for i in range(50)},
        }
    )
    assert len(parsed.description) == 10_000


def test_surrounding_whitespace_is_stripped() -> None:
    parsed = ComplaintIn.model_validate({**VALID, "subject": "  padded \n"})
    assert parsed.subject == "padded"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def mutate(body: dict[str, Any]) -> None:
        target: Any = body
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def mutate(body: dict[str, Any]) -> None:
        target: Any = body
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


REJECTED: list[tuple[str, Callable[[dict[str, Any]], None], tuple[Any, ...]]] = [
    ("unknown channel", _set("channel", "fax"), ("channel",)),
    ("no channel", _drop("channel"), ("channel",)),
    ("empty subject", _set("subject", ""), ("subject",)),
    ("blank subject", _set("subject", "   \n "), ("subject",)),
    ("long subject", _set("subject", "s" * 201), ("subject",)),
    ("empty description", _set("description", ""), ("description",)),
    ("long description", _set("description", "d" * 10_001), ("description",)),
    ("11 attachments", _set("attachments", [ATTACHMENT] * 11), ("attachments",)),
    (
        "ftp attachment",
        _set("attachments.0.url", "ftp://files.example.com/a.jpg"),
        ("attachments", 0, "url"),
    ),
    ("js attachment", _set("attachments.0.url", "javascript:alert(1)"), ("attachments", 0, "url")),
    ("bare scheme", _set("attachments.0.url", "https://"), ("attachments", 0, "url")),
    (
        "url with space",
        _set("attachments.0.url", "https://a.example.com/a b.jpg"),
        ("attachments", 0, "url"),
    ),
    ("bad media type", _set("attachments.0.media_type", "jpeg"), ("attachments", 0, "media_type")),
    (
        "media type params",
        _set("attachments.0.media_type", "image/png; x=1"),
        ("attachments", 0, "media_type"),
    ),
    ("negative size", _set("attachments.0.size", -1), ("attachments", 0, "size")),
    ("huge size", _set("attachments.0.size", 100 * 1024 * 1024 + 1), ("attachments", 0, "size")),
    ("51 metadata", _set("metadata", {f"k{i}": "v" for i in range(51)}), ("metadata",)),
    ("long metadata value", _set("metadata", {"k": "v" * 501}), ("metadata", "k")),
    ("long metadata key", _set("metadata", {"k" * 65: "v"}), ("metadata", "k" * 65)),
    ("empty metadata key", _set("metadata", {"": "v"}), ("metadata", "")),
    ("non-string metadata", _set("metadata", {"k": 1}), ("metadata", "k")),
    ("NUL in subject", _set("subject", "refund\x00"), ("subject",)),
    ("BEL in description", _set("description", "ring \x07 ring"), ("description",)),
    ("DEL in order_ref", _set("order_ref", "ORD\x7f1"), ("order_ref",)),
    ("ESC in name", _set("customer.name", "\x1b[31mred"), ("customer", "name")),
    ("NUL in metadata", _set("metadata", {"k": "v\x00"}), ("metadata", "k")),
    ("no identifier", _set("customer", {"name": "Zhang Wei"}), ("customer",)),
    ("empty identifiers", _set("customer", {"customer_id": None, "phone": None}), ("customer",)),
    ("bad phone", _set("customer.phone", "call me"), ("customer", "phone")),
    ("short phone", _set("customer.phone", "12345"), ("customer", "phone")),
    ("bad email", _set("customer.email", "not-an-address"), ("customer", "email")),
    ("unknown tier", _set("customer.tier", "platinum"), ("customer", "tier")),
    ("unknown field", _set("priority", "P1"), ("priority",)),
    ("unknown customer field", _set("customer.vip", True), ("customer", "vip")),
    ("unknown attachment field", _set("attachments.0.name", "x.jpg"), ("attachments", 0, "name")),
    ("bad occurred_at", _set("occurred_at", "yesterday"), ("occurred_at",)),
    ("long order_ref", _set("order_ref", "o" * 101), ("order_ref",)),
]


@pytest.mark.parametrize(("mutate", "loc"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_rejected(mutate: Callable[[dict[str, Any]], None], loc: tuple[Any, ...]) -> None:
    body = copy.deepcopy(VALID)
    mutate(body)
    with pytest.raises(ValidationError) as raised:
        ComplaintIn.model_validate(body)
    locations = [tuple(e["loc"]) for e in raised.value.errors()]
    assert any(where[: len(loc)] == loc for where in locations), locations


def test_naive_occurred_at_is_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="time zone offset"):
        ComplaintIn.model_validate({**VALID, "occurred_at": "2026-11-23T10:00:00"})


printable = st.characters(exclude_categories=("Cc", "Cs"))


@given(subject=st.text(printable, min_size=1, max_size=200).filter(lambda s: s == s.strip() and s))
def test_any_printable_subject_round_trips(subject: str) -> None:
    parsed = ComplaintIn.model_validate({**VALID, "subject": subject})
    assert parsed.subject == subject
    again = ComplaintIn.model_validate_json(parsed.model_dump_json())
    assert again == parsed
    assert again.subject == subject
