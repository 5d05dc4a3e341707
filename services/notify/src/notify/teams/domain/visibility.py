"""Whose delivery log a caller reads (§10, per object): managers and services every
complaint's; a team lead their own team's complaints (the token's ``team`` claim; without
it, none: failing closed). A complaint whose log the caller may not read is answered like
one without deliveries, never 403: the answer must not tell that it exists."""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

SEE_ALL_ROLES: Final = frozenset({"manager", "admin", "service"})


def may_read_deliveries(
    *, roles: Collection[str], team: str | None, complaint_team: str | None
) -> bool:
    if SEE_ALL_ROLES.intersection(roles):
        return True
    return "lead" in roles and team is not None and complaint_team == team
