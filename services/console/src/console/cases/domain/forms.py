"""The case page's forms: their limits (routing's), the checks made before calling
routing, and routing's refusals mapped onto the fields of the form that was sent.

A form that fails keeps what the user typed and marks each field with what is wrong; a
refusal without fields (a 409: the state changed, the agent is at capacity) is shown as
the form's message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from complaint_runtime.errors import InvalidInput, field_error

MAX_MESSAGE: Final = 2000  # routing: first response, reply, resolution texts
MAX_REASON: Final = 500  # routing: question, transfer and recategorisation reasons
MAX_NOTE: Final = 5000  # routing: internal notes
MAX_ESCALATION_REASON: Final = 2000  # routing: an escalation request's reason
MAX_DUPLICATE_REASON: Final = 2000  # routing: a duplicate link's or unlink's reason
MAX_REVEAL_REASON: Final = 500  # routing: why a lead reveals the customer's contact
_CODE_KEYS: Final = {
    "missing": "required",
    "required": "required",
    "string_too_short": "required",
    "too_long": "too_long",
    "string_too_long": "too_long",
    "literal_error": "choice",
    "enum": "choice",
    "string_pattern_mismatch": "pattern",
    "range": "range",
    "greater_than_equal": "range",
    "less_than_equal": "range",
    "not_allowed": "not_allowed",
}


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one field: ``key`` a catalog key under ``form.error.`` (None: show
    routing's own ``detail``)."""

    field: str
    key: str | None
    detail: str | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class FormState:
    """A form shown again: its values, the problem of each field, a message for the form
    and, for a stale form, what changed."""

    name: str
    values: Mapping[str, str] = field(default_factory=dict)
    problems: Mapping[str, FieldProblem] = field(default_factory=dict)
    message_key: str | None = None
    detail: str | None = None
    changes: tuple[Any, ...] = ()


def check_text(
    name: str, value: str | None, *, limit: int, required: bool = True
) -> list[FieldProblem]:
    """Empty (or only spaces) when required, or longer than ``limit`` characters."""
    text = (value or "").strip()
    if required and not text:
        return [FieldProblem(name, "required")]
    if len(text) > limit:
        return [FieldProblem(name, "too_long", limit=limit)]
    return []


def problems_of(errors: Iterable[Mapping[str, Any]] | None) -> dict[str, FieldProblem]:
    """Routing's problem ``errors`` by field (``field`` is the body's dotted path, e.g.
    ``root_cause``; ``code`` the check that failed)."""
    found: dict[str, FieldProblem] = {}
    for error in errors or ():
        name = str(error.get("field") or "")
        if not name or name in found:
            continue
        code = str(error.get("code") or "")
        detail = error.get("detail")
        found[name] = FieldProblem(
            name, _CODE_KEYS.get(code), detail if isinstance(detail, str) else None
        )
    return found


def clean(values: Mapping[str, str | None]) -> dict[str, str]:
    """The body routing gets: each text stripped, empty ones left out."""
    return {k: v.strip() for k, v in values.items() if v is not None and v.strip()}


class FormInvalid(InvalidInput):
    """A form the console refuses before calling routing (its fields' problems)."""

    default_kind = "form"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "The form has errors.",
            errors=[
                field_error(p.field, p.key or "invalid", code=p.key or "invalid") for p in problems
            ],
        )
        self.problems = problems


def require_valid(problems: list[FieldProblem]) -> None:
    if problems:
        raise FormInvalid(problems)
