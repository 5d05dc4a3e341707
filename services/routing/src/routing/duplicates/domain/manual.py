"""Linking and unlinking duplicates by hand (§4), as pure rules.

**Link** (a merge): staff decide that an open case is the same complaint as another open
case, which stands for both. The copy closes at once as a duplicate (its SLA ends: the
original's goes on). Only between two different open cases, neither of them a copy already:
a copy always links to the case that stands, never to another copy (as the automatic rule).
A case that other copies still wait on cannot become a copy itself: they would wait on a
closed case for ever (unlink them, or wait for them to close, first).

**Unlink**: staff decide that a linked copy is a complaint of its own after all. Only while
it is open: a closed copy (merged by hand, or closed with its original) stays closed; a
customer's message may reopen it, and it can be unlinked then. A copy routing still holds
back (``received``) is triaged and assigned as a new complaint would have been.

**Who**: an agent of the case's team, its team's lead, a manager. A copy routing holds
back has no team of its own; it stands under its original's team (and is seen through it).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from complaint_runtime.errors import Conflict

from routing.cases.domain.lifecycle import FINISHED

# The state of a copy routing holds back, untriaged, until its original closes.
HELD: Final = "received"
MANAGER: Final = "manager"  # links any team's cases; the other roles their team's only
LINK_ROLES: Final = frozenset({"agent", "lead", MANAGER})


@dataclass(frozen=True, slots=True)
class LinkedCase:
    """A case as the link rules see it."""

    complaint_id: str
    reference: str
    status: str
    duplicate_of: str | None = None  # the original it is linked to (the customer index)
    close_reason: str | None = None
    # The held copies (``received``) linked to this case, that wait on it to close; a copy
    # the customer reopened after a merge waits on nothing. Only read for the case merged.
    open_copies: int = 0

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED

    @property
    def is_held(self) -> bool:
        """A linked copy routing keeps untriaged (an unlink triages and assigns it)."""
        return self.duplicate_of is not None and self.status == HELD


class LinkRefused(Conflict):
    """The two cases cannot be linked; ``reason`` names the rule (a stable code)."""

    default_title = "Cannot link as a duplicate"
    default_kind = "duplicate-link-refused"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail, reason=reason)


class UnlinkRefused(Conflict):
    """The case cannot be unlinked; ``reason`` names the rule (a stable code)."""

    default_title = "Cannot unlink the duplicate"
    default_kind = "duplicate-unlink-refused"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail, reason=reason)


def may_link(*, roles: Collection[str], team: str | None, case_team: str | None) -> bool:
    """An agent or lead of the case's team, or a manager: linking is a team's judgement on
    its own cases, not only the assignee's (who may be away). A token without a ``team``
    claim grants nothing but as a manager (failing closed)."""
    if MANAGER in roles:
        return True
    in_team = team is not None and team == case_team
    return in_team and bool((LINK_ROLES - {MANAGER}).intersection(roles))


def check_link(copy: LinkedCase, original: LinkedCase) -> None:
    """Raise ``LinkRefused`` unless ``copy`` may be merged into ``original``."""
    if copy.complaint_id == original.complaint_id:
        raise LinkRefused(f"{copy.reference} cannot be a duplicate of itself.", reason="self")
    if not copy.is_open:
        raise LinkRefused(
            f"{copy.reference} is closed: only an open case can be merged into another.",
            reason="copy_closed",
        )
    if copy.duplicate_of is not None:
        raise LinkRefused(
            f"{copy.reference} is already linked as a duplicate: unlink it first.",
            reason="already_duplicate",
        )
    if copy.open_copies:
        raise LinkRefused(
            f"{copy.reference} has {copy.open_copies} open duplicate(s) of its own waiting on "
            "it: unlink them first, or merge them into the case that stands.",
            reason="has_open_copies",
        )
    if not original.is_open:
        raise LinkRefused(
            f"{original.reference} is closed: a case can only be merged into an open one.",
            reason="original_closed",
        )
    if original.duplicate_of is not None:
        raise LinkRefused(
            f"{original.reference} is itself a duplicate: merge into the case it is linked "
            "to instead.",
            reason="original_is_duplicate",
        )


def check_unlink(copy: LinkedCase, *, original_reference: str | None = None) -> None:
    """Raise ``UnlinkRefused`` unless ``copy`` is a linked copy that is still open."""
    if copy.duplicate_of is None:
        raise UnlinkRefused(f"{copy.reference} is not linked as a duplicate.", reason="not_linked")
    if copy.is_open:
        return
    original = original_reference or "its original"
    if copy.close_reason == "duplicate":
        raise UnlinkRefused(
            f"{copy.reference} was closed as a duplicate of {original} (merged into it, or "
            "closed with it): a closed case cannot be unlinked. A message from the customer "
            "reopens it; it can be unlinked then.",
            reason="closed_by_merge",
        )
    raise UnlinkRefused(
        f"{copy.reference} is closed: a closed case cannot be unlinked.", reason="copy_closed"
    )
