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
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from complaint_runtime.problems import Problem

from routing.db import CaseRepository
from routing.domain.access import may_act
from routing.domain.lifecycle import REASSIGNABLE
from routing.handling import CaseView
from routing.transitions import Actor, emit, load_case, masked, now_utc, record

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
        raise Problem(
            403,
            "Forbidden",
            "Only the lead of the case's team or a manager recategorises a case.",
            kind="forbidden",
        )


def _changes(old: tuple[str, str | None, str], new: tuple[str, str | None, str]) -> list[str]:
    names = ("category", "subcategory", "priority")
    return [
        f"{n} {o or '-'} → {v or '-'}" for n, o, v in zip(names, old, new, strict=True) if o != v
    ]


async def recategorize(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    reason: str,
    category: Category | None = None,
    subcategory: str | None = None,
    priority: Priority | None = None,
) -> CaseView:
    """Apply the correction; a new category without a sub-category clears the old one
    (it belonged to the old category)."""
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id)
        _authorize(principal, case_team=case.team)
        if case.status not in REASSIGNABLE:
            raise Problem(
                409,
                "Illegal transition",
                f"A case in state {case.status} cannot be recategorised (only open, triaged "
                "cases can).",
                kind="illegal-transition",
                state=case.status,
                command="Recategorize",
            )
        old_category = cast(Category, case.category)
        old_priority = cast(Priority, case.priority)
        new_category = category or old_category
        new_subcategory = subcategory
        if subcategory is None:
            new_subcategory = case.subcategory if new_category == old_category else None
        new_priority = priority or old_priority
        old = (old_category, case.subcategory, old_priority)
        changes = _changes(old, (new_category, new_subcategory, new_priority))
        if not changes:
            raise Problem(
                409,
                "Nothing to change",
                "The case already has this category, sub-category and priority.",
                kind="no-change",
            )
        why = masked(reason) or ""
        rule = FiredRule(rule=RULE, detail=f"{'; '.join(changes)} by {principal.subject}")
        now = now_utc()
        event = ComplaintRecategorized(
            complaint_id=case.complaint_id,
            old_category=old_category,
            new_category=new_category,
            old_subcategory=case.subcategory,
            new_subcategory=new_subcategory,
            old_priority=old_priority,
            new_priority=new_priority,
            reason=why,
            actor=principal.subject,
            rules_fired=(rule,),
        )
        case.category, case.subcategory, case.priority = new_category, new_subcategory, new_priority
        case.rules_fired = [*case.rules_fired, rule.model_dump()]
        case.updated_at = now
        event_id = emit(uow, case, event, at=now)
        record(
            uow,
            case,
            actor=Actor(principal.subject),
            action="recategorized",
            from_status=case.status,
            to_status=case.status,
            event_id=event_id,
            detail={
                "old_category": old_category,
                "new_category": new_category,
                "old_subcategory": old[1],
                "new_subcategory": new_subcategory,
                "old_priority": old_priority,
                "new_priority": new_priority,
                "reason": why,
                "rule": RULE,
            },
            at=now,
        )
        await uow.session.flush()
        actions = await CaseRepository(uow.session).actions(complaint_id)
    return CaseView(case, actions)
