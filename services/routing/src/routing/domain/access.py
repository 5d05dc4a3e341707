"""Who may act on a case (§10): agents on their own cases, leads on their team's, managers
on every case."""

from __future__ import annotations

from collections.abc import Collection

STAFF_ROLES: tuple[str, ...] = ("agent", "lead", "manager")


def may_act(
    *,
    roles: Collection[str],
    subject: str,
    team: str | None,
    case_team: str | None,
    case_assignee: str | None,
) -> bool:
    """Any one role that grants access is enough (a lead is often an agent as well).

    A lead without a ``team`` claim leads every team (small organisations have one lead).
    """
    if "manager" in roles:
        return True
    if "lead" in roles and (team is None or team == case_team):
        return True
    return "agent" in roles and case_assignee is not None and case_assignee == subject
