"""Erasure use cases: a customer's request (every complaint of theirs anonymised in intake
and ``complaint.erasure_requested`` sent for each, in ONE transaction), the function the
retention job calls for chosen complaints, and the status of an erasure.

Guarantees: an erased complaint keeps what its KPIs need (category, priority, status,
team, times) and nothing that names or describes the customer (rules:
:mod:`intake.erasure.domain.anonymisation`); the tracking link stops working; the events
leave through the outbox with the complaint's change or not at all; a complaint under a
legal hold is not erased (listed as held) until the hold is released
(:mod:`intake.erasure.holds`). Confirmations: :mod:`intake.erasure.confirmations`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

import uuid_utils
from complaint_runtime.database import Database, UnitOfWork
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.complaints.domain.secret_keys import Secrets
from intake.erasure.anonymising import Order, Reason, erase_in_intake
from intake.erasure.db import (
    Erasure,
    ErasureComplaint,
    ErasureRepository,
    IntakeRecords,
)
from intake.erasure.domain.errors import ErasureNotFound
from intake.erasure.domain.progress import (
    COMPLETED,
    PENDING,
    ComplaintProgress,
    status_of,
)
from intake.erasure.domain.requesters import Requester
from intake.erasure.domain.subjects import ErasureSubject, contact_hash


@dataclass(frozen=True)
class ErasureSummary:
    """What the request's 202 says: ``created`` False when a pending erasure of the same
    customer was found (and extended by any complaint it did not cover yet)."""

    erasure_id: str
    status: str
    complaints: int
    held: int
    requested_at: datetime
    created: bool


@dataclass(frozen=True)
class ErasureOutcome:
    """What :func:`erase_complaints` did: the complaints anonymised now, and those a legal
    hold keeps (erased when it is released)."""

    erased: tuple[str, ...]
    held: tuple[str, ...]


async def request_erasure(
    *,
    database: Database,
    secrets_: Secrets,
    subject: ErasureSubject,
    requester: Requester,
    now: datetime,
) -> ErasureSummary:
    """Erase the customer ``subject`` names (in the scope it carries), in one transaction.
    A pending erasure of the same name and scope is answered instead of a new one (and
    covers complaints that came in since); two identical requests at once meet on the
    pending erasure's unique index and the second answers the first's."""
    requester.check_may_request()
    try:
        summary = await _request_once(database, secrets_, subject, requester, now)
    except IntegrityError:
        summary = await _request_once(database, secrets_, subject, requester, now)
    await database.truncate_wal()
    return summary


async def _request_once(
    database: Database,
    secrets_: Secrets,
    subject: ErasureSubject,
    requester: Requester,
    now: datetime,
) -> ErasureSummary:
    subject_hash = subject.subject_hash(secrets_.ref_key)
    async with database.unit_of_work() as uow:
        repository = ErasureRepository(uow.session)
        matched = await _matching(repository, secrets_, subject)
        erasure = await repository.pending_for(
            kind=subject.kind, subject_hash=subject_hash, scope=subject.scope
        )
        created = erasure is None
        if erasure is None:
            erasure = Erasure(
                id=str(uuid_utils.uuid7()),
                reason="customer_request",
                subject_kind=subject.kind,
                subject_hash=subject_hash,
                scope=subject.scope,
                requested_by=requester.actor,
                requested_by_front_end=requester.front_end,
                requested_at=now,
                status=PENDING,
            )
            repository.add(erasure)
            await uow.session.flush()  # a concurrent twin fails here, on the unique index
        outcome = await _cover(
            uow,
            secrets_,
            erasure,
            matched,
            reason="customer_request",
            actor=requester.actor,
            now=now,
        )
        rows = await repository.complaints_of(erasure.id)
        if created or outcome.erased or outcome.held:
            uow.audit(
                actor=requester.actor,
                action="erasure.requested" if created else "erasure.extended",
                object_type="erasure",
                object_id=erasure.id,
                after={"complaints": len(rows), "held": sum(1 for r in rows if r.held)},
            )
    return ErasureSummary(
        erasure_id=erasure.id,
        status=erasure.status,
        complaints=len(rows),
        held=sum(1 for r in rows if r.held),
        requested_at=erasure.requested_at,
        created=created,
    )


async def _matching(
    repository: ErasureRepository, secrets_: Secrets, subject: ErasureSubject
) -> list[str]:
    if subject.kind == "external_ref":
        return await repository.complaint_ids_by_external_ref(
            subject.value, front_end=subject.scope
        )
    return await repository.complaint_ids_by_contact(
        kind=subject.kind,
        contact_hash=contact_hash(secrets_.ref_key, subject),
        front_end=None if subject.scope == "*" else subject.scope,
    )


async def erase_complaints(
    *,
    uow: UnitOfWork,
    secrets_: Secrets,
    complaint_ids: Collection[str],
    erasure_id: str,
    reason: Reason,
    actor: str,
    now: datetime,
) -> ErasureOutcome:
    """Erase chosen complaints under erasure ``erasure_id`` in the caller's transaction
    (the retention job's entry): the erasure is recorded if new (kind ``retention`` or
    ``complaints``, no subject), unknown ids are skipped, held ones listed as held."""
    repository = ErasureRepository(uow.session)
    erasure = await repository.get(erasure_id, for_update=True)
    if erasure is None:
        erasure = Erasure(
            id=erasure_id,
            reason=reason,
            subject_kind="retention" if reason == "retention_expired" else "complaints",
            subject_hash=None,
            scope="*",
            requested_by=actor,
            requested_by_front_end=None,
            requested_at=now,
            status=PENDING,
        )
        repository.add(erasure)
    outcome = await _cover(
        uow, secrets_, erasure, complaint_ids, reason=reason, actor=actor, now=now
    )
    uow.audit(
        actor=actor,
        action="erasure.requested",
        object_type="erasure",
        object_id=erasure.id,
        after={"reason": reason, "erased": len(outcome.erased), "held": len(outcome.held)},
    )
    return outcome


async def erase_for_retention(
    *,
    database: Database,
    secrets_: Secrets,
    complaint_ids: Collection[str],
    actor: str,
    now: datetime | None = None,
) -> int:
    """Erase complaints retention is due for, as one new erasure (reason
    ``retention_expired``) in one transaction; how many were anonymised (held ones are
    recorded as held, not erased)."""
    async with database.unit_of_work() as uow:
        outcome = await erase_complaints(
            uow=uow,
            secrets_=secrets_,
            complaint_ids=complaint_ids,
            erasure_id=str(uuid_utils.uuid7()),
            reason="retention_expired",
            actor=actor,
            now=now or datetime.now(UTC),
        )
    await database.truncate_wal()
    return len(outcome.erased)


async def held_complaint_ids(
    session: AsyncSession, complaint_ids: Collection[str] | None = None
) -> set[str]:
    """The complaints under an active legal hold (of ``complaint_ids``, or all): retention
    leaves them alone."""
    repository = ErasureRepository(session)
    if complaint_ids is None:
        return await repository.all_held()
    return await repository.held_among(complaint_ids)


async def _cover(
    uow: UnitOfWork,
    secrets_: Secrets,
    erasure: Erasure,
    complaint_ids: Collection[str],
    *,
    reason: Reason,
    actor: str,
    now: datetime,
) -> ErasureOutcome:
    """Add the complaints the erasure does not cover yet: erase them, or mark them held."""
    repository = ErasureRepository(uow.session)
    known = {row.complaint_id for row in await repository.complaints_of(erasure.id)}
    records = IntakeRecords(uow.session)
    complaints = await records.complaints_for_update(set(complaint_ids) - known)
    held = await repository.held_among([c.id for c in complaints])
    erasable = [c for c in complaints if c.id not in held]
    await erase_in_intake(uow, secrets_, erasable, [Order(erasure.id, reason, actor)], now=now)
    for complaint in complaints:
        repository.add_complaint(
            ErasureComplaint(
                erasure_id=erasure.id,
                complaint_id=complaint.id,
                held=complaint.id in held,
                erased_at=None if complaint.id in held else now,
            )
        )
    await uow.session.flush()
    await refresh_status(repository, erasure, now=now)
    return ErasureOutcome(erased=tuple(c.id for c in erasable), held=tuple(sorted(held)))


async def refresh_status(repository: ErasureRepository, erasure: Erasure, *, now: datetime) -> None:
    """Mark the erasure completed once every complaint is erased and confirmed."""
    if erasure.status == COMPLETED:
        return
    if status_of(await progress_of(repository, erasure.id)) == COMPLETED:
        erasure.status = COMPLETED
        erasure.completed_at = now


async def progress_of(repository: ErasureRepository, erasure_id: str) -> list[ComplaintProgress]:
    confirmations: dict[str, dict[str, datetime]] = {}
    for row in await repository.confirmations_of(erasure_id):
        confirmations.setdefault(row.complaint_id, {})[row.service] = row.erased_at
    return [
        ComplaintProgress(
            complaint_id=row.complaint_id,
            held=row.held,
            erased_at=row.erased_at,
            confirmations=confirmations.get(row.complaint_id, {}),
        )
        for row in await repository.complaints_of(erasure_id)
    ]


@dataclass(frozen=True)
class ErasureReport:
    """An erasure's status as its readers see it."""

    erasure: Erasure
    complaints: list[ComplaintProgress]


async def erasure_status(
    *, database: Database, requester: Requester, erasure_id: str
) -> ErasureReport:
    """The erasure with each complaint's confirmations; unknown and not the caller's to
    read are the same 404."""
    async with database.sessions() as session:
        repository = ErasureRepository(session)
        erasure = await repository.get(erasure_id)
        if erasure is None or not requester.may_read(
            requested_by_front_end=erasure.requested_by_front_end
        ):
            raise ErasureNotFound()
        return ErasureReport(erasure, await progress_of(repository, erasure_id))
