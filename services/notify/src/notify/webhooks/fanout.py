"""The consumer's side of webhooks: every consumed event, whatever its type, may become
webhook deliveries, in the transaction that consumes it.

The consumer's handler table is keyed by event class, so :func:`with_fan_out` gives every
event type of the consumed topics an entry: the existing handler first (it must still run,
unchanged), then the fan-out. For ``complaint.erasure_requested`` the complaint's webhook
deliveries are erased before the erasure event itself fans out: integrators hear of the
erasure (the event carries ids only), and nothing else of the complaint is sent any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import ErasureRequested
from complaint_runtime.consumer import Handler
from complaint_runtime.database import UnitOfWork

from notify.webhooks import service
from notify.webhooks.loop import Webhooks


def with_fan_out(
    table: Mapping[type[EventData], Handler],
    *,
    models: Iterable[type[EventData]],
    webhooks: Webhooks | None,
    clock: Callable[[], datetime],
) -> dict[type[EventData], Handler]:
    """``table`` with the fan-out added to the handler of each of ``models`` (a new entry
    where there was none); entries of other types are kept as they are. No webhooks (a
    hand-built test double): ``table`` as it is."""
    if webhooks is None:
        return dict(table)
    cache, wake = webhooks.cache, webhooks.dispatcher.wake

    async def fan_out(uow: UnitOfWork, envelope: Envelope) -> None:
        if isinstance(envelope.data, ErasureRequested):
            await service.erase_complaint(
                uow=uow, complaint_id=envelope.data.complaint_id, now=clock()
            )
        await service.fan_out(uow=uow, envelope=envelope, cache=cache, now=clock(), on_new=wake)

    def composed(existing: Handler) -> Handler:
        async def both(uow: UnitOfWork, envelope: Envelope) -> None:
            await existing(uow, envelope)
            await fan_out(uow, envelope)

        return both

    combined = dict(table)
    for model in models:
        existing = table.get(model)
        combined[model] = fan_out if existing is None else composed(existing)
    return combined
