"""Reveal a customer's raw contact to a lead or manager (§10): the rules are
:mod:`routing.contacts.domain.reveal`, the contact comes from intake's internal API
(:mod:`routing.adapters.intake_api`) and is never stored by routing.

The caller's sight (404) and role (403) are checked before intake is asked; intake is
called outside any transaction (a slow intake holds no lock); the audit entry commits
before the contact is handed back, so no contact is ever answered without its record.
"""

from __future__ import annotations

from complaint_runtime.database import Database
from complaint_runtime.errors import Forbidden, NotFound
from complaint_runtime.identity import Principal

from routing.adapters.intake_api import Contact, IntakeApi
from routing.casefile.domain.visibility import visibility_of
from routing.cases.domain.access import may_act
from routing.cases.transitions import Actor, load_case, masked, now_utc, record
from routing.contacts.domain.reveal import REVEAL_ROLES, present_fields
from routing.db import Case, CaseRepository

MAX_ID = 36
MAX_REASON = 500


async def reveal_contact(
    *,
    database: Database,
    intake: IntakeApi,
    complaint_id: str,
    principal: Principal,
    reason: str,
) -> Contact:
    """The contact of ``complaint_id``'s customer, with a ``contact_revealed`` history
    entry (actor, reason, which fields were present). ``NotFound`` for a case the caller
    may not see or intake does not know, ``Forbidden`` for anyone but a lead of the case's
    team or a manager, ``IntakeUnavailable`` when intake does not answer."""
    case = None
    if len(complaint_id) <= MAX_ID:
        async with database.sessions() as session:
            case = await CaseRepository(session).get(complaint_id)
    _authorize(principal, case)
    contact = await intake.contact(complaint_id)
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id, seen_by=principal)
        fields = present_fields(name=contact.name, email=contact.email, phone=contact.phone)
        record(
            uow,
            case,
            actor=Actor(principal.subject),
            action="contact_revealed",
            from_status=case.status,
            to_status=case.status,
            event_id=None,
            detail={"reason": (masked(reason.strip()) or "")[:MAX_REASON], "fields": fields},
            at=now_utc(),
        )
        # A read of personal data: in the audit chain too (which fields, never the values
        # nor the reason, which is free text the case's erasure blanks).
        uow.audit(
            actor=principal.subject,
            action="contact.revealed",
            object_type="complaint",
            object_id=complaint_id,
            after={"fields": fields},
        )
    return contact


def _authorize(principal: Principal, case: Case | None) -> None:
    sight = visibility_of(roles=principal.roles, subject=principal.subject, team=principal.team)
    if case is None or not sight.admits(case_team=case.team, case_assignee=case.assignee):
        raise NotFound(title="Case not found")
    if not may_act(
        roles=principal.roles & REVEAL_ROLES,
        subject=principal.subject,
        team=principal.team,
        case_team=case.team,
        case_assignee=case.assignee,
    ):
        raise Forbidden("Only the lead of the case's team or a manager may reveal a contact.")
