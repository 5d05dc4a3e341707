"""Erasure (§10) in sla-watch: intake's ``complaint.erasure_requested`` is confirmed with
``sla.erasure_completed``, and there is nothing to anonymise first. sla-watch holds no
personal data of a customer: clocks (metric, policy, calendar, target, due time, pause
history, thresholds fired, the id of the customer message a next-response clock answers,
never its text) and each complaint's facts (priority, category, tier, channel, team,
escalation level, the time of the last agent reply). Escalation reasons and actors go into
events only. It confirms so that the erasure's status names every service.

Every request is confirmed, once per event (the consumer drops a redelivered one by its
id), also a second one about the same complaint (a new erasure id) and one about a
complaint sla-watch never armed. It locks nothing, so it needs no place in a batch's
preload and waits for no clock.
"""

from __future__ import annotations

from datetime import datetime

from complaint_contracts import topics
from complaint_contracts.events import ErasureRequested, SlaErasureCompleted
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.recording import SOURCE


def confirm_erasure(*, uow: UnitOfWork, erasure: ErasureRequested, now: datetime) -> str:
    """Stage the confirmation in the consumer's transaction; its event id."""
    confirmed = SlaErasureCompleted(
        complaint_id=erasure.complaint_id, erasure_id=erasure.erasure_id, erased_at=now
    )
    return uow.add_event(
        confirmed, topic=topics.SLA.name, source=SOURCE, subject=erasure.complaint_id, time=now
    )
