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
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from complaint_runtime.database import UnitOfWork

from notify.deliveries.db import DeliveryRepository
from notify.messages.domain.promised_times import MAX_RETRY_S, stored_due_key

ACKNOWLEDGEMENT = "acknowledgement"


def first_look_at(now: datetime, *, wait_s: float) -> datetime:
    """When a just-recorded acknowledgement is first looked at unless released before: the
    longest quick retry, within the configured wait (0: at once)."""
    return now + timedelta(seconds=min(max(wait_s, 0.0), MAX_RETRY_S))


async def release_acknowledgement(
    *,
    uow: UnitOfWork,
    complaint_id: str,
    now: datetime,
    due_times: Mapping[str, datetime] | None = None,
    release: bool = True,
) -> int:
    """Keep ``due_times`` (metric -> due) on the complaint's pending acknowledgement and,
    with ``release``, make it due now. Returns how many rows it touched (0 or 1)."""
    rows = await DeliveryRepository(uow.session).pending_of_complaint(complaint_id)
    touched = 0
    for row in rows:
        if row.template != ACKNOWLEDGEMENT:
            continue
        if due_times:
            kept = {stored_due_key(metric): due.isoformat() for metric, due in due_times.items()}
            row.context = {**row.context, **kept}
        if release and row.next_attempt_at > now:
            row.next_attempt_at = now
        row.updated_at = now
        touched += 1
    return touched
