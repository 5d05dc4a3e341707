"""Which actions the case page offers: what routing's state machine allows in the case's
state (``routing.cases.domain.lifecycle``) to someone who may act on the case
(``routing.cases.domain.access``: an agent on the cases assigned to them, a lead on their
team's, a manager on any), and the case's tools beside the state machine (escalation,
duplicate links, the contact reveal) where this routing has them. Routing decides in the
end; the page only leaves out buttons that could not work."""

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
    "escalate",
    "link_duplicate",
    "unlink_duplicate",
    "reveal_contact",
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
SUPERVISOR_ROLES: Final = frozenset({"lead", "manager"})
MAX_ESCALATION: Final = 3  # 0 agent, 1 team lead, 2 manager, 3 senior group


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


def may_link(*, roles: Collection[str], team: str | None, case_team: str | None) -> bool:
    """Routing's ``may_link``: an agent or lead of the case's team, or any manager (a user
    without a team links nothing but as a manager)."""
    if "manager" in roles:
        return True
    in_team = team is not None and team == case_team
    return in_team and bool({"agent", "lead"}.intersection(roles))


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


def escalation_levels(current: int) -> tuple[int, ...]:
    """The levels a case at ``current`` may be raised to (the ladder only rises)."""
    return tuple(range(max(current, 0) + 1, MAX_ESCALATION + 1))


def case_tools(
    *,
    status: str | None,
    roles: Collection[str],
    team: str | None,
    case_team: str | None,
    escalation_level: int,
    duplicate_of: bool,
    offered: Collection[str],
) -> frozenset[Action]:
    """The tools beside the state machine, as routing authorises them: escalating and
    revealing the customer's contact are a lead's of the case's team or a manager's (not a
    lead's who acts on another team's case only as its assignee); linking a copy to its
    original (or undoing it) is an agent's or lead's of the case's team, or a manager's
    (``routing.duplicates.domain.manual.may_link``), on an open case. ``offered``: the
    tools this routing answers (its capabilities). No assignee rule: being assigned the
    case grants none of them."""
    if status is None:
        return frozenset()
    supervises = may_act(
        roles=SUPERVISOR_ROLES.intersection(roles),
        subject="",
        team=team,
        case_team=case_team,
        case_assignee=None,
    )
    links = may_link(roles=roles, team=team, case_team=case_team)
    is_open = status != "closed"
    wanted: dict[Action, bool] = {
        "escalate": supervises and is_open and bool(escalation_levels(escalation_level)),
        "reveal_contact": supervises,
        "link_duplicate": links and is_open and not duplicate_of,
        "unlink_duplicate": links and is_open and duplicate_of,
    }
    return frozenset(tool for tool, ok in wanted.items() if ok and tool in offered)
