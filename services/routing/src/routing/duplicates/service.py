"""Duplicates and repeats (§4) inside triage's transaction, and closing copies with their
original (§3).

The events, decided against §3 and the contracts:

- a duplicate gets a case row (its history, its customer messages) that stays
  ``received``: no ``complaint.triaged``, no ``complaint.assigned``, hence no clocks in
  sla-watch (which also cancels any on ``complaint.duplicate_linked``). Routing emits
  ``complaint.duplicate_linked`` keyed by the copy, naming the original that stands;
- when the original closes, each copy still open is closed with it:
  ``complaint.closed`` with reason ``duplicate`` (its SLA was the original's, so is its end).
  A duplicate closure needs no feedback evidence; the history names the original's closure;
- a complaint that is not a duplicate is triaged with ``repeat_count`` (earlier complaints
  of the customer in its category within 30 days), which the priority rule raises from 2.

The policy (windows, similarity threshold) comes from the settings through the
dependencies (``routing.bootstrap``); each use case takes it as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintReceived,
)
from complaint_runtime.database import UnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession

from routing.cases.domain.lifecycle import CloseDuplicate
from routing.cases.transitions import (
    SOURCE,
    Actor,
    decide_or_raise,
    emit,
    move,
    now_utc,
    received_case,
    record,
    record_received,
)
from routing.db import Case, CaseRepository
from routing.duplicates.db import CustomerIndex
from routing.duplicates.domain.detection import (
    DuplicateFinding,
    DuplicatePolicy,
    Earlier,
    Incoming,
    count_repeats,
    customer_keys,
    find_original,
    fingerprint,
    normalize_order_ref,
)


@dataclass(frozen=True, slots=True)
class Screening:
    incoming: Incoming
    earlier: tuple[Earlier, ...]
    original: DuplicateFinding | None
    policy: DuplicatePolicy

    def repeat_count(self, category: str) -> int:
        return count_repeats(self.incoming, self.earlier, category=category, policy=self.policy)


async def screen(
    *, uow: UnitOfWork, received: ComplaintReceived, policy: DuplicatePolicy
) -> Screening:
    """The customer's recent complaints, and the open one this complaint duplicates."""
    incoming = Incoming(
        complaint_id=received.complaint_id,
        keys=customer_keys(
            customer_ref=received.customer.customer_ref,
            identity_keys=received.customer.identity_keys,
        ),
        order_ref=normalize_order_ref(received.order_ref),
        fingerprint=fingerprint(received.description),
        received_at=received.received_at,
    )
    since = received.received_at - policy.lookback
    earlier = await CustomerIndex(uow.session).earlier(keys=incoming.keys, since=since)
    return Screening(incoming, tuple(earlier), find_original(incoming, earlier, policy), policy)


async def rescreen(*, uow: UnitOfWork, case: Case, policy: DuplicatePolicy) -> Screening:
    """The customer's recent complaints around a complaint the index already holds (a copy
    staff unlinked), for its repeat count at its late triage: it duplicates nothing now.
    A case older than the index, or erased, has no keys: no earlier complaints."""
    index = CustomerIndex(uow.session)
    entry = await index.get(case.complaint_id)
    incoming = Incoming(
        complaint_id=case.complaint_id,
        keys=await index.keys_of(case.complaint_id),
        order_ref=entry.order_ref if entry is not None else None,
        fingerprint=entry.fingerprint if entry is not None else "",
        received_at=entry.received_at if entry is not None else case.received_at,
    )
    earlier: list[Earlier] = []
    if incoming.keys:
        since = incoming.received_at - policy.lookback
        found = await index.earlier(keys=incoming.keys, since=since)
        # Only what came before the copy: complaints received after it are not repeats of it.
        earlier = [e for e in found if e.received_at <= incoming.received_at]
    return Screening(incoming, tuple(earlier), None, policy)


def index(uow: UnitOfWork, screening: Screening, *, repeat_count: int = 0) -> None:
    original = screening.original.original_id if screening.original else None
    CustomerIndex(uow.session).add(
        screening.incoming, duplicate_of=original, repeat_count=repeat_count
    )


async def link_duplicate(
    *, uow: UnitOfWork, received: ComplaintReceived, screening: Screening, event_id: str | None
) -> Case:
    """The copy's case row stays ``received``, linked to the original; no triage."""
    finding = screening.original
    if finding is None:
        raise ValueError(f"complaint {received.complaint_id} duplicates nothing")
    cases = CaseRepository(uow.session)
    original = await cases.get(finding.original_id)
    if original is None:  # the index only lists complaints that have a case
        raise LookupError(f"the customer index names unknown case {finding.original_id}")
    now = now_utc()
    matched = ", ".join(finding.matched_on)
    # The original's triage stands for both: one case, one SLA.
    case = received_case(
        received,
        category=original.category,
        subcategory=original.subcategory,
        confidence=original.confidence,
        priority=original.priority,
        emotion=original.emotion,
        rules_fired=[
            {
                "rule": "duplicate.linked",
                "detail": f"duplicate of {original.reference} (matched on {matched})",
            }
        ],
        team=None,
        at=now,
    )
    cases.add(case)
    index(uow, screening)
    await uow.session.flush()  # the history rows reference the case row
    record_received(uow, case, received, event_id=event_id)
    linked = ComplaintDuplicateLinked(
        complaint_id=case.complaint_id,
        duplicate_of=original.complaint_id,
        matched_on=finding.matched_on,
        similarity=finding.similarity,
        actor=SOURCE,
    )
    linked_id = emit(uow, case, linked, at=now)
    detail = {
        "duplicate_of": original.complaint_id,
        "original_reference": original.reference,
        "matched_on": list(finding.matched_on),
        "similarity": finding.similarity,
    }
    record(
        uow,
        case,
        actor=Actor(SOURCE),
        action="duplicate_linked",
        from_status="received",
        to_status="received",
        event_id=linked_id,
        detail=detail,
        at=now,
    )
    record(
        uow,
        original,
        actor=Actor(SOURCE),
        action="duplicate_received",
        from_status=original.status,
        to_status=original.status,
        event_id=linked_id,
        detail={
            "duplicate": case.complaint_id,
            "duplicate_reference": case.reference,
            "channel": received.channel,
            "matched_on": list(finding.matched_on),
        },
        at=now,
    )
    return case


async def close_duplicates_of(
    *, uow: UnitOfWork, original: Case, at: datetime, closed_event_id: str | None
) -> list[str]:
    """Close every open copy of ``original`` with it; returns their ids."""
    copies = await CustomerIndex(uow.session).open_duplicates_of(original.complaint_id)
    cases = CaseRepository(uow.session)
    closed: list[str] = []
    for copy_id in copies:
        copy = await cases.get_for_update(copy_id)
        if copy is None or copy.status != "received":
            continue  # not a copy routing holds back any more: nothing to close here
        transition = decide_or_raise(copy, CloseDuplicate())
        event = ComplaintClosed(
            complaint_id=copy.complaint_id, reason="duplicate", actor=SOURCE, closed_at=at
        )
        copy.closed_at = at
        copy.close_reason = "duplicate"
        move(
            uow,
            copy,
            transition,
            actor=Actor(SOURCE),
            action="closed",
            event=event,
            at=at,
            detail={
                "reason": "duplicate",
                "original": original.complaint_id,
                "original_closed_by": closed_event_id,
            },
        )
        closed.append(copy_id)
    return closed


@dataclass(frozen=True, slots=True)
class CaseLink:
    """Another case as the case file names it."""

    complaint_id: str
    reference: str
    status: str
    category: str
    received_at: datetime

    @classmethod
    def of(cls, case: Case) -> CaseLink:
        return cls(case.complaint_id, case.reference, case.status, case.category, case.received_at)


@dataclass(frozen=True, slots=True)
class DuplicateLinks:
    """A case's place among duplicates and repeats (§4)."""

    duplicate_of: CaseLink | None  # the original this case is a copy of
    copies: tuple[CaseLink, ...]  # the copies linked to this case, oldest first
    repeat_count: int  # earlier complaints of the customer in its category (30 days)


async def links_of(*, session: AsyncSession, case: Case, limit: int = 50) -> DuplicateLinks:
    """The original of a copy, the copies of an original, the repeat count at triage (a
    case older than the customer index has neither)."""
    index = CustomerIndex(session)
    entry = await index.get(case.complaint_id)
    original = None
    if entry is not None and entry.duplicate_of is not None:
        original_case = await CaseRepository(session).get(entry.duplicate_of)
        original = CaseLink.of(original_case) if original_case is not None else None
    copies = await index.copies_of(case.complaint_id, limit=limit)
    return DuplicateLinks(
        duplicate_of=original,
        copies=tuple(CaseLink.of(c) for c in copies),
        repeat_count=entry.repeat_count if entry is not None else 0,
    )


async def customer_history(*, session: AsyncSession, case: Case, limit: int) -> list[CaseLink]:
    """The customer's earlier complaints (any channel: the index links them by keyed
    hashes), newest first, at most ``limit``; none once erased (its keys are gone)."""
    earlier = await CustomerIndex(session).earlier_of(case, limit=limit)
    return [CaseLink.of(c) for c in earlier]


async def rekey(*, uow: UnitOfWork, complaint_id: str, identity_keys: tuple[str, ...]) -> bool:
    """A correction of the customer's contacts (§10): the complaint is found by the corrected
    contacts' identity keys from now on, no longer by the old ones (a wrong number must not
    keep linking other people's complaints to this customer); its customer reference key
    stays, as the reference does. No keys (an event from before intake sent them): nothing
    changes. Idempotent; False when the index holds no key of the complaint."""
    if not identity_keys:
        return False
    return await CustomerIndex(uow.session).replace_contact_keys(complaint_id, identity_keys)


async def forget(*, uow: UnitOfWork, complaint_id: str) -> None:
    """Erasure (§10): the keys that link the customer's complaints, and the text, go."""
    await CustomerIndex(uow.session).forget(complaint_id)
