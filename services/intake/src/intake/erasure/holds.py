"""Legal holds (section 10): an admin places one on a complaint (with a reason) and
releases it; both are recorded with who and when, and kept. While a hold lasts, erasure
skips the complaint (the erasure lists it as held and stays pending) and so does retention
(:func:`intake.erasure.service.held_complaint_ids`). Releasing the hold erases the
complaint, in the release's transaction, for every pending erasure that waited for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from complaint_runtime.database import Database
from sqlalchemy.exc import IntegrityError

from intake.complaints.domain.errors import ComplaintNotFound
from intake.complaints.domain.secret_keys import Secrets
from intake.db import ComplaintRepository
from intake.erasure.anonymising import Order, Reason, erase_in_intake
from intake.erasure.db import ErasureRepository, IntakeRecords, LegalHold
from intake.erasure.domain.errors import NoLegalHold
from intake.erasure.domain.holds import hold_reason
from intake.erasure.service import refresh_status


@dataclass(frozen=True)
class HoldAnswer:
    """A hold as the routes show it; ``created``: placed by this request; ``erasures``:
    the erasures its release applied to the complaint."""

    hold: LegalHold
    created: bool = False
    erasures: tuple[str, ...] = ()


async def place_hold(
    *, database: Database, complaint_id: str, reason: str, actor: str, now: datetime
) -> HoldAnswer:
    """Place a hold, or answer the one in place (its reason, who and when unchanged)."""
    kept = hold_reason(reason)
    try:
        async with database.unit_of_work() as uow:
            complaint = await ComplaintRepository(uow.session).get_for_update(complaint_id)
            if complaint is None:
                raise ComplaintNotFound()
            repository = ErasureRepository(uow.session)
            active = await repository.active_hold(complaint.id)
            if active is not None:
                return HoldAnswer(active)
            hold = LegalHold(complaint_id=complaint.id, reason=kept, placed_by=actor, placed_at=now)
            repository.add_hold(hold)
            # The reason stays with the hold: the chain holds ids, never free text.
            uow.audit(
                actor=actor,
                action="legal_hold.placed",
                object_type="complaint",
                object_id=complaint.id,
            )
    except IntegrityError:  # a concurrent PUT placed it (SQLite: no row lock)
        return await hold_of(database=database, complaint_id=complaint_id)
    return HoldAnswer(hold, created=True)


async def hold_of(*, database: Database, complaint_id: str) -> HoldAnswer:
    """The complaint's latest hold (active or released); ``NoLegalHold`` if it never had
    one."""
    async with database.sessions() as session:
        if await ComplaintRepository(session).get(complaint_id) is None:
            raise ComplaintNotFound()
        hold = await ErasureRepository(session).latest_hold(complaint_id)
    if hold is None:
        raise NoLegalHold()
    return HoldAnswer(hold)


async def release_hold(
    *, database: Database, secrets_: Secrets, complaint_id: str, actor: str, now: datetime
) -> HoldAnswer:
    """Release the active hold and erase the complaint for the erasures that waited."""
    async with database.unit_of_work() as uow:
        complaint = await ComplaintRepository(uow.session).get_for_update(complaint_id)
        if complaint is None:
            raise ComplaintNotFound()
        repository = ErasureRepository(uow.session)
        hold = await repository.active_hold(complaint.id, for_update=True)
        if hold is None:
            raise NoLegalHold()
        hold.released_by = actor
        hold.released_at = now
        uow.audit(
            actor=actor,
            action="legal_hold.released",
            object_type="complaint",
            object_id=complaint.id,
        )
        waiting = await repository.held_rows_of(complaint.id)
        erasures = [await repository.get(row.erasure_id, for_update=True) for row in waiting]
        pending = [e for e in erasures if e is not None]
        if pending:
            locked = await IntakeRecords(uow.session).complaints_for_update([complaint.id])
            orders = [Order(e.id, cast(Reason, e.reason), e.requested_by) for e in pending]
            await erase_in_intake(uow, secrets_, locked, orders, now=now)
        for row in waiting:
            row.held = False
            row.erased_at = now
        await uow.session.flush()
        for erasure in pending:
            await refresh_status(repository, erasure, now=now)
    if pending:
        await database.truncate_wal()
    return HoldAnswer(hold, erasures=tuple(e.id for e in pending))
