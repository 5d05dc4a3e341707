"""A supervisor's correction of a triage decision (§4): category, sub-category, priority.

Only the lead of the case's team or a manager decides, always with a reason; the decision
is recorded as the rule ``supervisor.decision`` on the case and in the event. This is the
only way to P1 after triage (the triage rules reach P1 for a leak or a safety hazard only,
a reopen stops at P2). The team stays: moving the case is a hand-off, a separate decision.
sla-watch restarts the resolution clock on ``complaint.recategorized`` when the priority
changes.
"""

from __future__ import annotations

from typing import cast

from complaint_contracts.events import ComplaintRecategorized
from complaint_contracts.events.routing import FiredRule
from complaint_contracts.vocabulary import Category, Priority
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Forbidden
from complaint_runtime.identity import Principal

from routing.cases.domain.access import may_act
from routing.cases.domain.errors import IllegalTransitionError, NoChangeError
from routing.cases.domain.lifecycle import REASSIGNABLE
from routing.cases.service import CaseView
from routing.cases.transitions import (
    Actor,
    changed,
    check_version,
    emit,
    load_case,
    masked,
    now_utc,
    record,
)
from routing.db import Case, CaseRepository

SUPERVISOR_ROLES = frozenset({"lead", "manager"})
RULE = "supervisor.decision"


def _authorize(principal: Principal, *, case_team: str | None) -> None:
    if not may_act(
        roles=principal.roles & SUPERVISOR_ROLES,
        subject=principal.subject,
        team=principal.team,
        case_team=case_team,
        case_assignee=None,
    ):
        raise Forbidden("Only the lead of the case's team or a manager recategorises a case.")


def _changes(old: tuple[str, str | None, str], new: tuple[str, str | None, str]) -> list[str]:
    names = ("category", "subcategory", "priority")
    return [
        f"{n} {o or '-'} → {v or '-'}" for n, o, v in zip(names, old, new, strict=True) if o != v
    ]


def _corrected(
    case: Case,
    *,
    category: Category | None,
    subcategory: str | None,
    priority: Priority | None,
) -> tuple[Category, str | None, Priority]:
    """The case's category, sub-category and priority after the correction: a new category
    without a sub-category clears the old one (it belonged to the old category)."""
    old_category = cast(Category, case.category)
    new_category = category or old_category
    new_subcategory = subcategory
    if subcategory is None:
        new_subcategory = case.subcategory if new_category == old_category else None
    return new_category, new_subcategory, priority or cast(Priority, case.priority)


async def recategorize(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    reason: str,
    category: Category | None = None,
    subcategory: str | None = None,
    priority: Priority | None = None,
    expected_version: int | None = None,
) -> CaseView:
    """Apply the correction: only open, triaged cases; something must change; refused
    when the case moved on from ``expected_version`` (``StaleCaseError``)."""
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id, seen_by=principal)
        _authorize(principal, case_team=case.team)
        await check_version(uow, case, expected_version)
        if case.status not in REASSIGNABLE:
            raise IllegalTransitionError(
                f"A case in state {case.status} cannot be recategorised (only open, triaged "
                "cases can).",
                state=case.status,
                command="Recategorize",
            )
        new = _corrected(case, category=category, subcategory=subcategory, priority=priority)
        old = (cast(Category, case.category), case.subcategory, cast(Priority, case.priority))
        changes = _changes(old, new)
        if not changes:
            raise NoChangeError(
                "The case already has this category, sub-category and priority.",
                title="Nothing to change",
            )
        _apply(uow, case, old=old, new=new, changes=changes, reason=reason, actor=principal.subject)
        await uow.session.flush()
        actions = await CaseRepository(uow.session).actions(complaint_id)
    return CaseView(case, actions)


def _apply(
    uow: UnitOfWork,
    case: Case,
    *,
    old: tuple[Category, str | None, Priority],
    new: tuple[Category, str | None, Priority],
    changes: list[str],
    reason: str,
    actor: str,
) -> None:
    """The correction on the row, its event and its history entry."""
    (old_category, old_subcategory, old_priority) = old
    (new_category, new_subcategory, new_priority) = new
    why = masked(reason) or ""
    rule = FiredRule(rule=RULE, detail=f"{'; '.join(changes)} by {actor}")
    now = now_utc()
    event = ComplaintRecategorized(
        complaint_id=case.complaint_id,
        old_category=old_category,
        new_category=new_category,
        old_subcategory=old_subcategory,
        new_subcategory=new_subcategory,
        old_priority=old_priority,
        new_priority=new_priority,
        reason=why,
        actor=actor,
        rules_fired=(rule,),
    )
    case.category, case.subcategory, case.priority = new_category, new_subcategory, new_priority
    case.rules_fired = [*case.rules_fired, rule.model_dump()]
    changed(case, at=now)
    event_id = emit(uow, case, event, at=now)
    record(
        uow,
        case,
        actor=Actor(actor),
        action="recategorized",
        from_status=case.status,
        to_status=case.status,
        event_id=event_id,
        detail={
            "old_category": old_category,
            "new_category": new_category,
            "old_subcategory": old_subcategory,
            "new_subcategory": new_subcategory,
            "old_priority": old_priority,
            "new_priority": new_priority,
            "reason": why,
            "rule": RULE,
        },
        at=now,
    )
