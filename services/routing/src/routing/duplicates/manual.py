"""Linking and unlinking duplicates by hand (§4): staff merge an open case into another
that stands for both, or tell routing that a linked copy is a complaint of its own after
all. The rules are :mod:`routing.duplicates.domain.manual`; each use case commits the link
(the customer index, where automatic links are kept too), its events (outbox) and the
history entries of both cases in one transaction.

- a merge emits ``complaint.duplicate_linked`` (matched on ``manual``, the staff member as
  actor) and closes the copy at once (``complaint.closed``, reason ``duplicate``): sla-watch
  cancels its clocks on both events, and its assignee's slot frees up as on a resolve; its
  open follow-up call and unreachable-customer tasks are done (``case_closed``, by routing);
- an unlink emits ``complaint.duplicate_unlinked``; a copy routing held back is then
  triaged and assigned from the texts its case file keeps (``complaint.triaged`` arms its
  clocks), exactly as a complaint of its own (:func:`routing.triage.service.triage_unlinked`).

Locks: both case rows in one ``SELECT … ORDER BY complaint_id FOR UPDATE``
(``CaseRepository.get_many_for_update``), then the rules decide: a merge of A into B and
one of B into A at the same time lock the two rows in the same order, so they never wait
on each other; the second sees the first's link and is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
)
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Conflict, Forbidden, NotFound
from complaint_runtime.identity import Principal

from routing.assignment.service import release_and_drain
from routing.casefile.db import CaseFileRepository
from routing.casefile.domain.visibility import visibility_of
from routing.cases.domain.lifecycle import ACTIVE, CloseDuplicate
from routing.cases.service import CaseView
from routing.cases.transitions import (
    Actor,
    changed,
    check_version,
    decide_or_raise,
    emit,
    masked,
    move,
    now_utc,
    record,
)
from routing.db import Case, CaseRepository
from routing.duplicates.db import CustomerIndex
from routing.duplicates.domain.detection import DuplicatePolicy
from routing.duplicates.domain.manual import (
    LinkedCase,
    check_link,
    check_unlink,
    may_link,
)
from routing.duplicates.service import rescreen
from routing.tasks.opening import close_tasks_of_closed_case
from routing.triage.classifiers import TriageClassifiers
from routing.triage.service import triage_unlinked

MAX_REASON: Final = 2000  # the events' bound: the masked reason is cut to it
MAX_ID: Final = 36


async def link_by_hand(
    *,
    database: Database,
    complaint_id: str,
    original_id: str,
    principal: Principal,
    reason: str,
    expected_version: int | None = None,
) -> CaseView:
    """Merge ``complaint_id`` into ``original_id``: linked as its duplicate and closed.

    ``NotFound`` for a case or an original the caller may not see, ``Forbidden`` for an
    agent or lead of another team, ``StaleCaseError`` when the copy moved on from
    ``expected_version``, ``LinkRefused`` when the rules say no."""
    async with database.unit_of_work() as uow:
        cases, index = CaseRepository(uow.session), CustomerIndex(uow.session)
        locked = await _lock(cases, original_id, complaint_id)
        original, copy = locked.get(original_id), locked.get(complaint_id)
        if copy is None or not _sees(principal, copy):
            raise NotFound(title="Case not found")
        _authorize(principal, case_team=copy.team)
        await check_version(uow, copy, expected_version)
        if original is None or not _sees(principal, original):
            raise NotFound(
                "No open case with this id that you may see to merge into.",
                title="Original case not found",
            )
        check_link(
            await _linked(index, copy, count_held_copies=True), await _linked(index, original)
        )
        await _merge(
            uow, copy=copy, original=original, actor=Actor(principal.subject), reason=reason
        )
        await uow.session.flush()
        actions = await cases.actions(copy.complaint_id)
    return CaseView(copy, actions)


async def unlink_by_hand(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    reason: str,
    classifiers: TriageClassifiers,
    duplicate_policy: DuplicatePolicy,
    streak_length: int,
    expected_version: int | None = None,
) -> CaseView:
    """``complaint_id`` is no duplicate: the link goes, and a copy routing held back is
    triaged and assigned as a complaint of its own (``classifiers``, ``duplicate_policy``
    and ``streak_length`` as for a received complaint).

    ``NotFound`` for a case the caller may not see (a held copy is seen through its
    original), ``Forbidden``, ``StaleCaseError`` as for a link, ``UnlinkRefused`` for a
    case that is not linked or is closed."""
    async with database.unit_of_work() as uow:
        cases, index = CaseRepository(uow.session), CustomerIndex(uow.session)
        entry = await index.get(complaint_id) if len(complaint_id) <= MAX_ID else None
        linked_to = entry.duplicate_of if entry is not None else None
        locked = await _lock(cases, complaint_id, *([linked_to] if linked_to else []))
        copy = locked.get(complaint_id)
        original = locked.get(linked_to) if linked_to is not None else None
        if copy is None or not _sees_copy(principal, copy, original):
            raise NotFound(title="Case not found")
        _authorize(principal, case_team=_team_of(copy, original))
        await check_version(uow, copy, expected_version)
        linked = await _linked(index, copy)
        check_unlink(linked, original_reference=original.reference if original else None)
        if original is None or linked.duplicate_of != original.complaint_id:
            raise Conflict(
                f"The link of {copy.reference} changed while this request was made: "
                "reload the case and try again.",
                title="Link changed",
            )
        actor = Actor(principal.subject)
        now = now_utc()
        await _unlink(uow, copy=copy, original=original, actor=actor, reason=reason, at=now)
        if linked.is_held:
            await _triage(
                uow,
                copy=copy,
                classifiers=classifiers,
                duplicate_policy=duplicate_policy,
                streak_length=streak_length,
            )
        await uow.session.flush()
        actions = await cases.actions(copy.complaint_id)
    return CaseView(copy, actions)


async def _merge(uow: UnitOfWork, *, copy: Case, original: Case, actor: Actor, reason: str) -> None:
    """The link, its event and history on both cases, then the copy's closure."""
    now = now_utc()
    why = _masked(reason)
    await CustomerIndex(uow.session).link(
        complaint_id=copy.complaint_id,
        duplicate_of=original.complaint_id,
        received_at=copy.received_at,
    )
    linked = ComplaintDuplicateLinked(
        complaint_id=copy.complaint_id,
        duplicate_of=original.complaint_id,
        matched_on=("manual",),
        similarity=None,
        actor=actor.id,
    )
    linked_id = emit(uow, copy, linked, at=now)
    _record_both(
        uow,
        copy=copy,
        original=original,
        actor=actor,
        actions=("duplicate_linked", "duplicate_received"),
        event_id=linked_id,
        detail={"matched_on": ["manual"], "reason": why},
        at=now,
    )
    status, assignee = copy.status, copy.assignee
    transition = decide_or_raise(copy, CloseDuplicate())
    closed = ComplaintClosed(
        complaint_id=copy.complaint_id, reason="duplicate", actor=actor.id, closed_at=now
    )
    copy.closed_at, copy.close_reason, copy.queued_at = now, "duplicate", None
    closed_id = move(
        uow,
        copy,
        transition,
        actor=actor,
        action="closed",
        event=closed,
        at=now,
        detail={"reason": "duplicate", "original": original.complaint_id, "merged": True},
    )
    await close_tasks_of_closed_case(uow=uow, case=copy, at=now, event_id=closed_id)
    if status in ACTIVE:  # it counted towards its agent's load: the slot frees up
        await release_and_drain(uow=uow, agent_id=assignee, at=now, exclude=[copy.complaint_id])


async def _unlink(
    uow: UnitOfWork, *, copy: Case, original: Case, actor: Actor, reason: str, at: datetime
) -> None:
    """The link goes (the case's version moves on), with its event and history."""
    why = _masked(reason)
    entry = await CustomerIndex(uow.session).get(copy.complaint_id)
    if entry is not None:
        entry.duplicate_of = None
    unlinked = ComplaintDuplicateUnlinked(
        complaint_id=copy.complaint_id,
        duplicate_of=original.complaint_id,
        reason=why,
        actor=actor.id,
    )
    event_id = emit(uow, copy, unlinked, at=at)
    changed(copy, at=at)
    _record_both(
        uow,
        copy=copy,
        original=original,
        actor=actor,
        actions=("duplicate_unlinked", "duplicate_unlinked"),
        event_id=event_id,
        detail={"reason": why},
        at=at,
    )


async def _triage(
    uow: UnitOfWork,
    *,
    copy: Case,
    classifiers: TriageClassifiers,
    duplicate_policy: DuplicatePolicy,
    streak_length: int,
) -> None:
    """The held copy's own triage and assignment, from its case file's texts (none left
    after an erasure: triaged on nothing, as such a complaint would be); the customer
    index keeps its repeat count as it does for every triaged complaint."""
    file = await CaseFileRepository(uow.session).file(copy.complaint_id)
    repeat_count = await triage_unlinked(
        uow=uow,
        case=copy,
        subject=(file.subject if file is not None else None) or "",
        description=(file.description if file is not None else None) or "",
        screening=await rescreen(uow=uow, case=copy, policy=duplicate_policy),
        classifiers=classifiers,
        streak_length=streak_length,
    )
    entry = await CustomerIndex(uow.session).get(copy.complaint_id)
    if entry is not None:
        entry.repeat_count = repeat_count


def _record_both(
    uow: UnitOfWork,
    *,
    copy: Case,
    original: Case,
    actor: Actor,
    actions: tuple[str, str],
    event_id: str,
    detail: dict[str, object],
    at: datetime,
) -> None:
    """One history entry on the copy (naming its original) and one on the original
    (naming the copy); neither changes a state."""
    record(
        uow,
        copy,
        actor=actor,
        action=actions[0],
        from_status=copy.status,
        to_status=copy.status,
        event_id=event_id,
        detail={
            "duplicate_of": original.complaint_id,
            "original_reference": original.reference,
            **detail,
        },
        at=at,
    )
    record(
        uow,
        original,
        actor=actor,
        action=actions[1],
        from_status=original.status,
        to_status=original.status,
        event_id=event_id,
        detail={
            "duplicate": copy.complaint_id,
            "duplicate_reference": copy.reference,
            "channel": copy.channel,
            **detail,
        },
        at=at,
    )


async def _lock(cases: CaseRepository, *complaint_ids: str) -> dict[str, Case]:
    """The cases found, row-locked together in id order (an id too long is no case)."""
    return await cases.get_many_for_update(i for i in complaint_ids if len(i) <= MAX_ID)


async def _linked(
    index: CustomerIndex, case: Case, *, count_held_copies: bool = False
) -> LinkedCase:
    """The case as the rules see it, its link read after its row was locked; for the case
    to be merged (``count_held_copies``), the held copies that wait on it to close."""
    entry = await index.fresh(case.complaint_id)
    return LinkedCase(
        complaint_id=case.complaint_id,
        reference=case.reference,
        status=case.status,
        duplicate_of=entry.duplicate_of if entry is not None else None,
        close_reason=case.close_reason,
        open_copies=await index.held_copies_of(case.complaint_id) if count_held_copies else 0,
    )


def _sees(principal: Principal, case: Case) -> bool:
    sight = visibility_of(roles=principal.roles, subject=principal.subject, team=principal.team)
    return sight.admits(case_team=case.team, case_assignee=case.assignee)


def _sees_copy(principal: Principal, copy: Case, original: Case | None) -> bool:
    """A copy routing holds back has no team: whoever sees its original sees it."""
    if _sees(principal, copy):
        return True
    return copy.team is None and original is not None and _sees(principal, original)


def _team_of(copy: Case, original: Case | None) -> str | None:
    if copy.team is None and original is not None:
        return original.team
    return copy.team


def _authorize(principal: Principal, *, case_team: str | None) -> None:
    if not may_link(roles=principal.roles, team=principal.team, case_team=case_team):
        raise Forbidden("Agents and leads link and unlink their team's cases; managers any.")


def _masked(reason: str) -> str:
    return (masked(reason.strip()) or "")[:MAX_REASON]
