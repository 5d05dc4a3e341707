"""The other services' confirmations of an erasure (``*.erasure_completed``, one event type
per service on its own topic), recorded by intake's consumer.

Each is recorded once (a redelivery or a duplicate changes nothing); the erasure turns
``completed`` in the transaction of the last confirmation it waited for. The erasure's row
is locked first, so confirmations of two complaints applied at once by two consumers (two
partitions) are counted one after the other and the later one sees the earlier. A
confirmation of an unknown erasure, or of a complaint the erasure does not cover, is
ignored (logged): the consumer must not stall on it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

from complaint_contracts.events import (
    CaseErasureCompleted,
    FeedbackErasureCompleted,
    NotificationErasureCompleted,
    SlaErasureCompleted,
)
from complaint_contracts.events.common import ErasureCompleted
from complaint_runtime.database import UnitOfWork

from intake.erasure.db import ErasureRepository
from intake.erasure.service import refresh_status

log = logging.getLogger(__name__)

SERVICE_OF: Final[dict[type[ErasureCompleted], str]] = {
    CaseErasureCompleted: "routing",
    SlaErasureCompleted: "sla-watch",
    FeedbackErasureCompleted: "feedback",
    NotificationErasureCompleted: "notify",
}


async def record_confirmation(
    *, uow: UnitOfWork, data: ErasureCompleted, event_id: str, now: datetime
) -> bool:
    """Record one service's confirmation; whether it was new. The service is the event's
    type (each topic has one producer), not a field anyone could set."""
    service = SERVICE_OF[type(data)]
    repository = ErasureRepository(uow.session)
    erasure = await repository.get(data.erasure_id, for_update=True)
    if erasure is None:
        log.warning("erasure confirmation for unknown erasure %s ignored", data.erasure_id)
        return False
    covered = {row.complaint_id for row in await repository.complaints_of(erasure.id)}
    if data.complaint_id not in covered:
        log.warning(
            "erasure confirmation of %s for complaint %s it does not cover ignored",
            erasure.id,
            data.complaint_id,
        )
        return False
    new = await repository.add_confirmation(
        {
            "erasure_id": erasure.id,
            "complaint_id": data.complaint_id,
            "service": service,
            "erased_at": data.erased_at,
            "event_id": event_id,
            "recorded_at": now,
        }
    )
    if new:
        await refresh_status(repository, erasure, now=now)
    return new
