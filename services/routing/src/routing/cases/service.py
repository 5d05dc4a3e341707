"""Staff commands on a case (§3): view, first response, replies, waiting for the customer,
resuming, resolving, reassigning. Each authorises the caller against the case, decides
with the state machine and commits the change, its event and its history together; what
the customer is told or asked joins the case file's conversation in the same transaction,
and its event carries the text and how it is signed (never a user id: see
:mod:`routing.staffing.domain.signature`) for notify and the customer's tracking view.

Every command takes ``expected_version``: the case version the caller's form was drawn from
(the ``If-Match`` header); a case that moved on since refuses it before anything changes.

Refusals are domain errors: ``NotFound`` (unknown case), ``Forbidden`` (not the caller's
case), ``StaleCaseError`` (the case moved on from ``expected_version``),
``IllegalTransitionError`` / ``ClosureGuardError`` (the state machine said no).
The supervisor's correction is in :mod:`routing.cases.recategorization`, the facts other
services report in :mod:`routing.cases.reported_facts`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintFirstResponseSent,
    ComplaintResolved,
    ComplaintResumed,
)
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Forbidden, NotFound
from complaint_runtime.identity import Principal

from routing.assignment.service import release_and_drain, transfer_case
from routing.casefile.recording import record_staff_message
from routing.cases.domain.access import may_act
from routing.cases.domain.lifecycle import (
    AwaitCustomer,
    RecordFirstResponse,
    RecordReply,
    Resolve,
    Resume,
)
from routing.cases.transitions import (
    Actor,
    check_version,
    decide_or_raise,
    load_case,
    masked,
    move,
    now_utc,
)
from routing.db import Case, CaseAction, CaseRepository
from routing.staffing.service import sender_name
from routing.tasks.domain.follow_up import DEFAULT_WINDOW, FollowUpWindow
from routing.tasks.opening import open_follow_up_call

# Who may hand a case off through the reassign endpoint (the transfer endpoint adds the
# case's assignee, see routing.cases.api).
REASSIGN_ROLES = frozenset({"lead", "manager"})


@dataclass(frozen=True)
class CaseView:
    """A case and its history as a use case leaves them (read-only for the caller)."""

    case: Case
    actions: list[CaseAction]


def _authorize(principal: Principal, case: Case, *, roles: frozenset[str] | None = None) -> None:
    held = principal.roles if roles is None else principal.roles & roles
    if not may_act(
        roles=held,
        subject=principal.subject,
        team=principal.team,
        case_team=case.team,
        case_assignee=case.assignee,
    ):
        raise Forbidden("Agents act on cases assigned to them, leads on their team's cases.")


Step = Callable[[UnitOfWork, Case, Actor], Awaitable[None]]


async def _run(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    step: Step,
    expected_version: int | None,
    roles: frozenset[str] | None = None,
) -> CaseView:
    """Load and lock the case, authorise, check the version, run ``step``: all or nothing."""
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id, seen_by=principal)
        _authorize(principal, case, roles=roles)
        await check_version(uow, case, expected_version)
        await step(uow, case, Actor(principal.subject))
        await uow.session.flush()
        actions = await CaseRepository(uow.session).actions(complaint_id)
    return CaseView(case, actions)


async def view_case(*, database: Database, complaint_id: str) -> CaseView:
    """A case and its history, with no caller to check (internal reads and tests); staff
    read the case file, with its per-object rule: :mod:`routing.casefile.service`."""
    async with database.sessions() as session:
        cases = CaseRepository(session)
        case = await cases.get(complaint_id) if len(complaint_id) <= 36 else None
        if case is None:
            raise NotFound(title="Case not found")
        return CaseView(case, await cases.actions(complaint_id))


async def record_first_response(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    message: str | None = None,
    channel: str | None = None,
    expected_version: int | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, RecordFirstResponse())
        now = now_utc()
        case.first_response_at = case.first_response_at or now
        text = masked(message)
        event = ComplaintFirstResponseSent(
            complaint_id=case.complaint_id,
            actor=actor.id,
            channel=channel,
            responded_at=now,
            message=text or None,
            agent_name=await sender_name(uow=uow, user_id=actor.id, team=case.team),
        )
        event_id = move(
            uow,
            case,
            transition,
            actor=actor,
            action="first_response_sent",
            event=event,
            at=now,
            detail={"channel": channel, "message": text},
        )
        record_staff_message(
            uow=uow,
            case=case,
            kind="first_response",
            author=actor.id,
            text=text,
            channel=channel,
            at=now,
            event_id=event_id,
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        expected_version=expected_version,
    )


async def record_reply(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    message: str | None = None,
    in_reply_to: str | None = None,
    channel: str | None = None,
    expected_version: int | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, RecordReply())
        now = now_utc()
        text = masked(message)
        event = ComplaintAgentReplied(
            complaint_id=case.complaint_id,
            actor=actor.id,
            in_reply_to=in_reply_to,
            channel=channel,
            replied_at=now,
            message=text or None,
            agent_name=await sender_name(uow=uow, user_id=actor.id, team=case.team),
        )
        event_id = move(
            uow,
            case,
            transition,
            actor=actor,
            action="agent_replied",
            event=event,
            at=now,
            detail={"in_reply_to": in_reply_to, "channel": channel, "message": text},
        )
        record_staff_message(
            uow=uow,
            case=case,
            kind="reply",
            author=actor.id,
            text=text,
            channel=channel,
            in_reply_to=in_reply_to,
            at=now,
            event_id=event_id,
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        expected_version=expected_version,
    )


async def await_customer(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    reason: str,
    expected_version: int | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, AwaitCustomer())
        now = now_utc()
        why = masked(reason) or ""
        event = ComplaintAwaitingCustomer(
            complaint_id=case.complaint_id,
            actor=actor.id,
            reason=why,
            since=now,
            agent_name=await sender_name(uow=uow, user_id=actor.id, team=case.team),
        )
        event_id = move(
            uow,
            case,
            transition,
            actor=actor,
            action="awaiting_customer",
            event=event,
            at=now,
            detail={"reason": why},
        )
        record_staff_message(
            uow=uow,
            case=case,
            kind="question",
            author=actor.id,
            text=why,
            at=now,
            event_id=event_id,
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        expected_version=expected_version,
    )


async def resume(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    expected_version: int | None = None,
) -> CaseView:
    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(case, Resume(trigger="agent"))
        now = now_utc()
        event = ComplaintResumed(
            complaint_id=case.complaint_id, trigger="agent", actor=actor.id, resumed_at=now
        )
        move(
            uow,
            case,
            transition,
            actor=actor,
            action="resumed",
            event=event,
            at=now,
            detail={"trigger": "agent"},
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        expected_version=expected_version,
    )


async def resolve(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    solution_summary: str | None = None,
    solution_type: str | None = None,
    root_cause: str | None = None,
    preventive_measure: str | None = None,
    expected_version: int | None = None,
    follow_up: FollowUpWindow = DEFAULT_WINDOW,
) -> CaseView:
    """Resolved (closure guard); a P1/P2 case also gets its 回访 follow-up call task."""

    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        transition = decide_or_raise(
            case,
            Resolve(
                solution_summary=solution_summary,
                solution_type=solution_type,
                root_cause=root_cause,
            ),
        )
        now = now_utc()
        # The closure guard passed: summary and root cause are there and not blank.
        summary = masked((solution_summary or "").strip())
        cause = masked((root_cause or "").strip())
        measure = masked(preventive_measure.strip()) if preventive_measure else None
        event = ComplaintResolved(
            complaint_id=case.complaint_id,
            solution_summary=summary,
            solution_type=solution_type,
            root_cause=cause,
            preventive_measure=measure or None,
            actor=actor.id,
            resolved_at=now,
        )
        case.solution_summary, case.solution_type = summary, solution_type
        case.root_cause, case.preventive_measure = cause, measure or None
        case.resolved_at = now
        event_id = move(
            uow,
            case,
            transition,
            actor=actor,
            action="resolved",
            event=event,
            at=now,
            detail={"solution_type": solution_type},
        )
        # Resolved waits for the customer, not the agent: the slot frees up at once and
        # the team queue drains into it (a reopen claims a slot again).
        case.queued_at = None
        await release_and_drain(uow=uow, agent_id=case.assignee, at=now)
        await open_follow_up_call(
            uow=uow, case=case, event_id=event_id, resolved_at=now, window=follow_up
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        expected_version=expected_version,
    )


async def reassign(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    reason: str,
    assignee: str | None = None,
    team: str | None = None,
    roles: frozenset[str] = REASSIGN_ROLES,
    expected_version: int | None = None,
) -> CaseView:
    """A hand-off (§5): see :func:`routing.assignment.service.transfer_case`. ``roles`` are the
    roles that may ask: the reassign endpoint admits leads and managers, the transfer
    endpoint the case's assignee as well."""

    async def step(uow: UnitOfWork, case: Case, actor: Actor) -> None:
        await transfer_case(
            uow=uow, case=case, actor=actor, reason=reason, assignee=assignee, team=team
        )

    return await _run(
        database=database,
        complaint_id=complaint_id,
        principal=principal,
        step=step,
        expected_version=expected_version,
        roles=roles,
    )
