"""When a lead or manager may ask for an escalation by hand (§3), as pure rules.

The escalation level (0 agent, 1 team lead, 2 manager, 3 senior escalation group) is
orthogonal to the case's state and owned by sla-watch: routing only asks. A request is
refused here rather than passed on when it could never change anything, so the requester
hears why at once instead of seeing nothing happen:

- a closed case is not escalated: nobody is working on it any more (a reopen brings it
  back, and then it can be);
- a ``received`` case has not been triaged: it is a duplicate sharing its original's SLA
  (escalate the original) or is being triaged right now, and sla-watch holds no level for
  it (no clocks were armed) that it could raise;
- the level asked for must be above the case's current level: the ladder only rises by
  hand (a de-escalation is sla-watch's decision) and a request at the same level would be
  an escalation that changes nothing, which the contract forbids.

The reason is what the requester wrote, without surrounding blanks, contacts masked (§10)
like every staff text, and 1 to :data:`MAX_REASON` characters once masked (masking an
e-mail address adds characters, and the event refuses longer text).
"""

from __future__ import annotations

from typing import Final, Literal, cast

from complaint_contracts.privacy import redact_contacts
from complaint_runtime.errors import Conflict, InvalidInput, field_error

from routing.cases.domain.errors import IllegalTransitionError
from routing.cases.domain.lifecycle import REASSIGNABLE

RequestedLevel = Literal[1, 2, 3]
CurrentLevel = Literal[0, 1, 2, 3]

MAX_REASON: Final = 2000
COMMAND: Final = "Escalate"
# Open and triaged: the states in which sla-watch holds the case's level.
ESCALATABLE: Final = REASSIGNABLE
LEVEL_NAMES: Final[dict[int, str]] = {
    0: "agent",
    1: "team lead",
    2: "manager",
    3: "senior escalation group",
}


class EscalationNotHigherError(Conflict):
    """The level asked for is not above the case's current escalation level."""

    default_title = "Escalation level not higher"
    default_kind = "escalation-not-higher"

    def __init__(self, *, level: int, current_level: int) -> None:
        super().__init__(
            f"The case already stands at escalation level {current_level} "
            f"({LEVEL_NAMES[current_level]}); an escalation by hand asks for a higher level "
            f"than that, not level {level} ({LEVEL_NAMES[level]}).",
            level=level,
            current_level=current_level,
        )


def check_request(*, state: str, current_level: int, level: int) -> CurrentLevel:
    """Refuse a request that could not raise the case's level; returns the current level
    (the one the request was decided on, carried by the event)."""
    if level not in (1, 2, 3):
        raise InvalidInput(
            "The escalation level is 1 (team lead), 2 (manager) or 3 (senior group).",
            errors=[field_error("level", "1, 2 or 3", code="enum")],
        )
    if current_level not in (0, 1, 2, 3):
        raise ValueError(f"not an escalation level: {current_level!r}")
    if state not in ESCALATABLE:
        why = (
            "a closed case is not escalated (a reopen brings it back)"
            if state == "closed"
            else "only a triaged case is escalated (a duplicate goes with its original)"
        )
        raise IllegalTransitionError(
            f"A case in state {state} cannot be escalated: {why}.", state=state, command=COMMAND
        )
    if level <= current_level:
        raise EscalationNotHigherError(level=level, current_level=current_level)
    return cast(CurrentLevel, current_level)


def request_reason(text: str) -> str:
    """The reason as it is kept and sent: stripped, contacts masked, 1..MAX_REASON."""
    kept = redact_contacts(text.strip())
    if not 1 <= len(kept) <= MAX_REASON:
        raise InvalidInput(
            f"An escalation needs a reason of 1 to {MAX_REASON} characters (blanks around it "
            "not counted, contacts masked).",
            errors=[field_error("reason", f"1..{MAX_REASON} characters", code="length")],
        )
    return kept
