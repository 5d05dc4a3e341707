"""The acknowledgement's wait for the SLA clocks, ended by events rather than by polling.

The acknowledgement names the complaint's real due times, which sla-watch arms a moment
after receipt (:mod:`notify.messages.domain.promised_times`). Looking again and again until
intake's projection shows them cost a contact look-up per look and seconds of delay under
load. Instead the acknowledgement is recorded held for a short first wait
(:func:`first_look_at`) and released by the event that ends the wait, in the consumer's
transaction, with the delivery loop woken after the commit:

- ``sla.clock_started`` of the first-response clock: its due time (and the resolution
  clock's, when seen) is kept on the row, so the message does not depend on intake having
  projected the clocks yet;
- ``complaint.duplicate_linked`` or ``complaint.closed``: no clock will come.

Should no release come (sla-watch away, or the clock seen before the complaint), the
first look happens after the short wait and the old path (due times from intake, quick
retries within ``ACK_WAIT_FOR_DUE_S``) takes over: the release is only a shortcut.

A consumer's batch reads the pending acknowledgements its events may release in one query
before its handlers run (:func:`preload_acknowledgements`, ``messaging.preload``), and an
acknowledgement recorded by the same batch is still staged, not written
(``service.stage_deliveries``): it is released in memory and written released.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from complaint_runtime.database import UnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from notify.deliveries.db import MESSAGE_KEY, Delivery, DeliveryRepository, staged_deliveries
from notify.messages.domain.promised_times import MAX_RETRY_S, stored_due_key

ACKNOWLEDGEMENT = "acknowledgement"

# The pending acknowledgements read ahead for a batch (complaint id -> rows), in
# ``Session.info``: a complaint listed here needs no query of its own.
_PRELOADED = "notify.pending_acknowledgements"


def first_look_at(now: datetime, *, wait_s: float) -> datetime:
    """When a just-recorded acknowledgement is first looked at unless released before: the
    longest quick retry, within the configured wait (0: at once)."""
    return now + timedelta(seconds=min(max(wait_s, 0.0), MAX_RETRY_S))


async def preload_acknowledgements(*, uow: UnitOfWork, complaint_ids: Iterable[str]) -> None:
    """Read the pending acknowledgements of these complaints in one query (a consumer's
    batch: the complaints its events may release), so that :func:`release_acknowledgement`
    reads none of its own for them. Only a shortcut: without it, each release reads its
    complaint's."""
    preloaded: dict[str, list[Delivery]] = uow.session.info.setdefault(_PRELOADED, {})
    wanted = [cid for cid in dict.fromkeys(complaint_ids) if cid not in preloaded]
    if not wanted:
        return
    rows = await DeliveryRepository(uow.session).pending_of_complaints(
        wanted, template=ACKNOWLEDGEMENT
    )
    for complaint_id in wanted:
        preloaded[complaint_id] = []
    for row in rows:
        preloaded[row.complaint_id].append(row)


def forget_preloaded(session: Session | AsyncSession, complaint_ids: Collection[str]) -> None:
    """Rows of these complaints were just written: what was read ahead for them may be
    incomplete, their next release reads again."""
    preloaded: dict[str, list[Delivery]] | None = session.info.get(_PRELOADED)
    if preloaded:
        for complaint_id in complaint_ids:
            preloaded.pop(complaint_id, None)


async def _recorded(uow: UnitOfWork, complaint_id: str) -> list[Delivery]:
    """The complaint's pending acknowledgements in the database: read ahead, else now."""
    preloaded: dict[str, list[Delivery]] | None = uow.session.info.get(_PRELOADED)
    rows = preloaded.get(complaint_id) if preloaded else None
    if rows is None:
        rows = await DeliveryRepository(uow.session).pending_of_complaints(
            [complaint_id], template=ACKNOWLEDGEMENT
        )
    # Read ahead, a row may have left ``pending`` since in this transaction (an erasure).
    return [row for row in rows if row.status == "pending"]


def _message(row: Delivery | Mapping[str, Any]) -> tuple[Any, ...]:
    if isinstance(row, Delivery):
        return tuple(getattr(row, column) for column in MESSAGE_KEY)
    return tuple(row[column] for column in MESSAGE_KEY)


async def release_acknowledgement(
    *,
    uow: UnitOfWork,
    complaint_id: str,
    now: datetime,
    due_times: Mapping[str, datetime] | None = None,
    release: bool = True,
) -> int:
    """Keep ``due_times`` (metric -> due) on the complaint's pending acknowledgement and,
    with ``release``, make it due now. Returns how many rows it touched (0 or 1).

    The acknowledgement may be recorded already or only staged in this transaction (its
    ``complaint.received`` earlier in the same batch, see ``service.stage_deliveries``):
    a staged one is changed before it is written."""
    kept = {stored_due_key(metric): due.isoformat() for metric, due in (due_times or {}).items()}
    touched = 0
    recorded = await _recorded(uow, complaint_id)
    for row in recorded:
        if kept:
            row.context = {**row.context, **kept}
        if release and row.next_attempt_at > now:
            row.next_attempt_at = now
        row.updated_at = now
        # The same columns for every release, changed or not: the commit's flush writes a
        # batch's releases in one executemany, not one per run of alike rows.
        flag_modified(row, "context")
        flag_modified(row, "next_attempt_at")
        touched += 1
    staged = staged_deliveries(uow.session)
    if staged is None:
        return touched
    already = {_message(row) for row in recorded}  # the staged copy would add nothing
    for values in staged.of_complaint(complaint_id):
        if values["template"] != ACKNOWLEDGEMENT or _message(values) in already:
            continue
        if kept:
            values["context"] = {**values["context"], **kept}
        if release and values["next_attempt_at"] > now:
            values["next_attempt_at"] = now
        values["updated_at"] = now
        touched += 1
    return touched
