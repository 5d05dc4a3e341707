"""How each kind of task ends: its outcomes, and whether it takes the customer's CSAT.

A review (``review_reopen``) ends with what the lead found; a follow-up call
(``follow_up_call``, 回访) with whether the customer was reached, and if they were, an
optional CSAT 1..5 they gave on the call (stored on the task for the insights, never an
event); a ``customer_unreachable`` task with whether the lead reached the customer some
other way. An outcome of another kind, or a CSAT where nobody was asked, is refused (422)
before anything changes.
"""

from __future__ import annotations

from typing import Final, Literal

from complaint_runtime.errors import InvalidInput, field_error

from routing.tasks.domain.rules import TaskKind

Outcome = Literal[
    "confirmed_fix",
    "reassigned",
    "coached",
    "no_action",
    "reached",
    "not_reached",
    "new_issue_raised",
    "contacted",
]
# Per kind (routing.tasks.domain.rules.KINDS), as the API documents them.
OUTCOMES: Final[dict[TaskKind, dict[Outcome, str]]] = {
    "review_reopen": {
        "confirmed_fix": "the fix was checked with the customer or the owner and holds",
        "reassigned": "the case was handed to someone better placed",
        "coached": "the agent was coached on what went wrong",
        "no_action": "reviewed; nothing to do",
    },
    "follow_up_call": {
        "reached": "the customer was called and reached",
        "not_reached": "the customer could not be reached",
        "new_issue_raised": "the customer was reached and raised a new issue",
    },
    "customer_unreachable": {
        "contacted": "the customer was reached another way (a call, a visit)",
        "not_reached": "the customer could not be reached by any means",
    },
}
# Routing's own, never a staff member's (``check_completion`` refuses it): the case closed
# (withdrawn by the customer, or merged into another case) while the task was open, and
# nobody is to call or reach the customer about it any more. Review tasks stay open: a
# lead's review of a reopen is about the agent's work, closed case or not.
SystemOutcome = Literal["case_closed"]
CASE_CLOSED: Final[SystemOutcome] = "case_closed"
SYSTEM_OUTCOMES: Final[dict[TaskKind, dict[SystemOutcome, str]]] = {
    "follow_up_call": {CASE_CLOSED: "routing: the case was withdrawn or merged before the call"},
    "customer_unreachable": {
        CASE_CLOSED: "routing: the case was withdrawn or merged; nobody needs to reach them"
    },
}
ALL_OUTCOMES: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(
        [outcome for outcomes in OUTCOMES.values() for outcome in outcomes]
        + [outcome for outcomes in SYSTEM_OUTCOMES.values() for outcome in outcomes]
    )
)
# Where the customer was reached on the call, the CSAT they gave may be recorded.
CSAT_OUTCOMES: Final[dict[str, frozenset[str]]] = {
    "follow_up_call": frozenset({"reached", "new_issue_raised"}),
}
CSAT_MIN: Final = 1
CSAT_MAX: Final = 5


def outcomes_of(kind: str) -> tuple[Outcome, ...]:
    """The outcomes a task of ``kind`` may end with (none for an unknown kind)."""
    for known, outcomes in OUTCOMES.items():
        if known == kind:
            return tuple(outcomes)
    return ()


def check_completion(*, kind: str, outcome: str, csat: int | None) -> None:
    """``InvalidInput`` (422, with the field) unless ``outcome`` ends a task of ``kind`` and
    ``csat`` is absent, or in 1..5 for an outcome where the customer was reached."""
    allowed = outcomes_of(kind)
    if outcome not in allowed:
        listed = ", ".join(allowed)
        raise InvalidInput(
            f"A {kind} task ends with one of {listed}.",
            errors=[field_error("outcome", f"one of {listed}", code="enum")],
        )
    if csat is None:
        return
    if outcome not in CSAT_OUTCOMES.get(kind, frozenset()):
        raise InvalidInput(
            f"A CSAT is recorded only when the customer was reached on a follow-up call, "
            f"not for a {kind} task ending {outcome}.",
            errors=[field_error("csat", "not with this outcome", code="not_allowed")],
        )
    if not CSAT_MIN <= csat <= CSAT_MAX:
        raise InvalidInput(
            f"csat must be between {CSAT_MIN} and {CSAT_MAX}.",
            errors=[field_error("csat", f"{CSAT_MIN}..{CSAT_MAX}", code="range")],
        )
