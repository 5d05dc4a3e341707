"""The complaint state machine of requirements §3, as a pure function.

Commands come in (imperative: ``Resolve``), a :class:`Transition` or an
:class:`IllegalTransition` goes out; the service turns a transition into past-tense events.

```
received → triaged → assigned → in_progress ⇄ awaiting_customer
in_progress → resolved → awaiting_confirmation → closed
resolved → closed                       (confirmation or auto-close without a request)
resolved | awaiting_confirmation → reopened → assigned | in_progress
closed → reopened                       (a customer message within the reopen window)
received → closed                       (a duplicate, closed with its original)
any open state → closed                 (Withdraw: the customer withdrew it; CloseDuplicate:
                                         staff merged it into another case by hand)
any open state → the same state         (Reassign: a hand-off; RecordReply; a reminder)
```

Decisions taken here:

- ``closed`` is left only by a reopen: a customer message on a closed complaint within
  the reopen window (§3, 30 days; intake decides the window, feedback reports the reopen
  with reason ``customer_message``). Nothing else leaves ``closed``; a later message
  opens a new complaint linked to the old one, which stays closed.
- Reopen raises the priority by one level, **capped at P2** (P4→P3→P2, P2 stays P2, P1
  stays P1): §3 says "priority +1", and §4 reserves P1 for a leak, a safety hazard or a
  supervisor's decision, which a reopen is not. A supervisor can still raise it to P1.
- The closure guard is checked after the state: a resolve in the wrong state is illegal
  whatever it carries, a resolve in ``in_progress`` lists every missing field at once.
- A duplicate (§4) is never triaged: it stays ``received``, linked to its original, and
  ``CloseDuplicate`` closes it when the original closes (it shares the original's SLA).
- Staff may link an open case to another by hand (a merge): ``CloseDuplicate`` closes it
  from any open state, as the original's closing would have closed an automatic copy.
- ``Withdraw`` (§3, Decision: withdrawal) closes from any open state without the closure
  guard's fields: the withdrawal is the customer's own confirmation.
- ``RequestConfirmation`` in ``awaiting_confirmation`` keeps the state: feedback's reminder
  re-sends the request and must not be refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from complaint_contracts.vocabulary import Priority, Status

State = Status
STATES: Final[tuple[State, ...]] = (
    "received",
    "triaged",
    "assigned",
    "in_progress",
    "awaiting_customer",
    "resolved",
    "awaiting_confirmation",
    "reopened",
    "closed",
)
# Closed: no work is done on the case any more (only a reopen leaves it).
FINISHED: Final[frozenset[State]] = frozenset({"closed"})
# Every state in which the complaint is still open: a withdrawal or a merge closes it.
OPEN: Final[frozenset[State]] = frozenset(STATES) - FINISHED
# Received has no team yet, so there is nothing to hand off.
REASSIGNABLE: Final[frozenset[State]] = frozenset(STATES) - FINISHED - {"received"}
# The states in which an agent still has work on the case: they count towards capacity.
# Resolved and later wait for the customer, not the agent, until a reopen brings it back.
ACTIVE: Final[frozenset[State]] = frozenset(
    {"triaged", "assigned", "in_progress", "awaiting_customer", "reopened"}
)

# The graph of §3; ``decide`` never leaves it (a property test checks it).
GRAPH: Final[dict[State, frozenset[State]]] = {
    "received": frozenset({"triaged", "closed"}),
    "triaged": frozenset({"assigned", "triaged", "closed"}),
    "assigned": frozenset({"in_progress", "assigned", "closed"}),
    "in_progress": frozenset({"in_progress", "awaiting_customer", "resolved", "closed"}),
    "awaiting_customer": frozenset({"in_progress", "awaiting_customer", "closed"}),
    "resolved": frozenset({"awaiting_confirmation", "closed", "reopened", "resolved"}),
    "awaiting_confirmation": frozenset({"awaiting_confirmation", "closed", "reopened"}),
    "reopened": frozenset({"assigned", "in_progress", "reopened", "closed"}),
    "closed": frozenset({"reopened"}),
}

CLOSURE_FIELDS: Final[tuple[str, ...]] = ("solution_summary", "solution_type", "root_cause")
_RAISE: Final[dict[Priority, Priority]] = {"P4": "P3", "P3": "P2", "P2": "P2", "P1": "P1"}


# -- commands


@dataclass(frozen=True, slots=True)
class Triage:
    pass


@dataclass(frozen=True, slots=True)
class Assign:
    pass


@dataclass(frozen=True, slots=True)
class RecordFirstResponse:
    pass


@dataclass(frozen=True, slots=True)
class RecordReply:
    pass


@dataclass(frozen=True, slots=True)
class AwaitCustomer:
    pass


@dataclass(frozen=True, slots=True)
class Resume:
    trigger: Literal["customer_message", "agent"] = "agent"


@dataclass(frozen=True, slots=True)
class Resolve:
    solution_summary: str | None = None
    solution_type: str | None = None
    root_cause: str | None = None


@dataclass(frozen=True, slots=True)
class RequestConfirmation:
    pass


@dataclass(frozen=True, slots=True)
class Confirm:
    pass


@dataclass(frozen=True, slots=True)
class AutoClose:
    pass


@dataclass(frozen=True, slots=True)
class Reopen:
    priority: Priority


@dataclass(frozen=True, slots=True)
class Reassign:
    pass


@dataclass(frozen=True, slots=True)
class CloseDuplicate:
    pass


@dataclass(frozen=True, slots=True)
class Withdraw:
    pass


Command = (
    Triage
    | Assign
    | RecordFirstResponse
    | RecordReply
    | AwaitCustomer
    | Resume
    | Resolve
    | RequestConfirmation
    | Confirm
    | AutoClose
    | Reopen
    | Reassign
    | CloseDuplicate
    | Withdraw
)


# -- outcomes


@dataclass(frozen=True, slots=True)
class Transition:
    old_state: State
    new_state: State
    new_priority: Priority | None = None  # set only when the command changes the priority


@dataclass(frozen=True, slots=True)
class IllegalTransition:
    state: State
    command: str
    reason: str
    missing: tuple[str, ...] = field(default=())  # closure guard: the fields lacking


Decision = Transition | IllegalTransition

_AFTER_RESOLVE: Final[frozenset[State]] = frozenset({"resolved", "awaiting_confirmation"})
# Command → the states it is legal in → the state it leads to (None: stays where it is).
_MOVES: Final[dict[type[Command], tuple[frozenset[State], State | None]]] = {
    Triage: (frozenset({"received"}), "triaged"),
    Assign: (frozenset({"triaged", "reopened"}), "assigned"),
    RecordFirstResponse: (frozenset({"assigned", "reopened"}), "in_progress"),
    RecordReply: (frozenset({"in_progress"}), None),
    AwaitCustomer: (frozenset({"in_progress"}), "awaiting_customer"),
    Resume: (frozenset({"awaiting_customer"}), "in_progress"),
    Resolve: (frozenset({"in_progress"}), "resolved"),
    RequestConfirmation: (
        frozenset({"resolved", "awaiting_confirmation"}),
        "awaiting_confirmation",
    ),
    Confirm: (frozenset({"resolved", "awaiting_confirmation"}), "closed"),
    AutoClose: (frozenset({"resolved", "awaiting_confirmation"}), "closed"),
    Reopen: (frozenset({"resolved", "awaiting_confirmation", "closed"}), "reopened"),
    Reassign: (REASSIGNABLE, None),
    CloseDuplicate: (OPEN, "closed"),
    Withdraw: (OPEN, "closed"),
}


def command_name(command: Command) -> str:
    return type(command).__name__


def missing_closure_fields(
    *, solution_summary: str | None, solution_type: str | None, root_cause: str | None
) -> tuple[str, ...]:
    """The closure guard of §2: which of the three required fields are missing or blank."""
    values = (solution_summary, solution_type, root_cause)
    return tuple(
        name
        for name, value in zip(CLOSURE_FIELDS, values, strict=True)
        if value is None or not value.strip()
    )


def raise_priority(priority: Priority) -> Priority:
    """One level up, capped at P2: only leak/safety rules or a supervisor reach P1."""
    return _RAISE[priority]


def decide(state: State, command: Command) -> Decision:
    """What ``command`` does to a case in ``state``; pure, total over states × commands."""
    name = command_name(command)
    legal_in, target = _MOVES[type(command)]
    if state not in legal_in:
        allowed = ", ".join(sorted(legal_in)) or "no state"
        return IllegalTransition(
            state, name, f"{name} is not allowed in state {state} (only in {allowed})"
        )
    if isinstance(command, Resolve):
        missing = missing_closure_fields(
            solution_summary=command.solution_summary,
            solution_type=command.solution_type,
            root_cause=command.root_cause,
        )
        if missing:
            return IllegalTransition(
                state, name, f"closure guard: {', '.join(missing)} required", missing
            )
    new_priority = raise_priority(command.priority) if isinstance(command, Reopen) else None
    return Transition(state, target or state, new_priority)
