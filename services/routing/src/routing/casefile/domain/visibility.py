"""Who sees which case (§10, per object): an agent their team's cases and the cases assigned
to them, a lead their team's, a manager, an administrator and a service every case.

A case the caller may not see is answered exactly like an unknown case (404), never 403:
the answer must not tell that it exists. Lists only ever hold visible cases: the same rule
in the form of a filter (:class:`Visibility`), so a list and a single read never disagree.
Seeing is not acting: who may act on a case is :mod:`routing.cases.domain.access`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

SEE_ALL_ROLES: Final = frozenset({"manager", "admin", "service"})


@dataclass(frozen=True, slots=True)
class Visibility:
    """The cases one caller sees: all of them, or those of ``team`` and those assigned to
    ``assignee`` (either may be None; both None: none at all)."""

    everything: bool
    team: str | None = None
    assignee: str | None = None

    @property
    def nothing(self) -> bool:
        return not self.everything and self.team is None and self.assignee is None

    def admits(self, *, case_team: str | None, case_assignee: str | None) -> bool:
        if self.everything:
            return True
        if self.team is not None and case_team == self.team:
            return True
        return self.assignee is not None and case_assignee == self.assignee


def visibility_of(*, roles: Collection[str], subject: str, team: str | None) -> Visibility:
    """Any one role that grants sight is enough (a lead is often an agent as well). A token
    without a ``team`` claim sees no team's cases (failing closed): an agent still sees the
    cases assigned to them."""
    if SEE_ALL_ROLES.intersection(roles):
        return Visibility(everything=True)
    in_team = "agent" in roles or "lead" in roles
    return Visibility(
        everything=False,
        team=team if in_team else None,
        assignee=subject if "agent" in roles else None,
    )
