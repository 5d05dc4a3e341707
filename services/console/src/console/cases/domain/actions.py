"""Which actions the case page offers: what routing's state machine allows in the case's
state (``routing.cases.domain.lifecycle``) to someone who may act on the case
(``routing.cases.domain.access``: an agent on the cases assigned to them, a lead on their
team's, a manager on any). Routing decides in the end; the page only leaves out buttons
that could not work."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final, Literal

Action = Literal[
    "first_response",
    "reply",
    "ask",
    "resume",
    "resolve",
    "transfer",
    "recategorize",
    "note",
]
_LEGAL_IN: Final[dict[Action, frozenset[str]]] = {
    "first_response": frozenset({"assigned", "reopened"}),
    "reply": frozenset({"in_progress"}),
    "ask": frozenset({"in_progress"}),
    "resume": frozenset({"awaiting_customer"}),
    "resolve": frozenset({"in_progress"}),
    # routing's REASSIGNABLE: every state but received and closed
    "transfer": frozenset(
        {
            "triaged",
            "assigned",
            "in_progress",
            "awaiting_customer",
            "resolved",
            "awaiting_confirmation",
            "reopened",
        }
    ),
    "recategorize": frozenset(
        {
            "triaged",
            "assigned",
            "in_progress",
            "awaiting_customer",
            "resolved",
            "awaiting_confirmation",
            "reopened",
        }
    ),
}
LEAD_ONLY: Final[frozenset[Action]] = frozenset({"recategorize"})
STAFF_ROLES: Final = frozenset({"agent", "lead", "manager"})


def may_act(
    *,
    roles: Collection[str],
    subject: str,
    team: str | None,
    case_team: str | None,
    case_assignee: str | None,
) -> bool:
    if "manager" in roles:
        return True
    if "lead" in roles and team is not None and team == case_team:
        return True
    return "agent" in roles and case_assignee is not None and case_assignee == subject


def available_actions(
    *,
    status: str | None,
    roles: Collection[str],
    subject: str,
    team: str | None,
    case_team: str | None,
    case_assignee: str | None,
    notes: bool,
) -> frozenset[Action]:
    """The actions to offer; ``notes``: this routing takes internal notes (any staff member
    who sees the case may add one)."""
    offered: set[Action] = set()
    if notes and STAFF_ROLES.intersection(roles) and status != "closed":
        offered.add("note")
    acting = may_act(
        roles=roles, subject=subject, team=team, case_team=case_team, case_assignee=case_assignee
    )
    if not acting or status is None:
        return frozenset(offered)
    is_lead = "lead" in roles or "manager" in roles
    for action, states in _LEGAL_IN.items():
        if status in states and (action not in LEAD_ONLY or is_lead):
            offered.add(action)
    return frozenset(offered)
