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

    A lead acts on their own team's cases only; a lead token without a ``team`` claim grants
    nothing as a lead (failing closed): a lead for all teams is a manager.
    """
    if "manager" in roles:
        return True
    if "lead" in roles and team is not None and team == case_team:
        return True
    return "agent" in roles and case_assignee is not None and case_assignee == subject
