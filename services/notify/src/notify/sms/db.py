"""Delivery receipts on the delivery log: the SMS columns of
:class:`notify.deliveries.db.Delivery` (``provider_message_id``, ``receipt_status``,
``receipt_at``, ``receipt_error``, added by migration 0005). No table of its own."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify.deliveries.db import Delivery


class SmsReceiptRepository:
    """Matches receipts to deliveries by the provider's message id and records them."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def known_message_ids(self, provider_message_ids: Collection[str]) -> set[str]:
        """Those of ``provider_message_ids`` that some delivery holds, in one query."""
        if not provider_message_ids:
            return set()
        rows = await self.session.scalars(
            select(Delivery.provider_message_id)
            .where(Delivery.provider_message_id.in_(list(provider_message_ids)))
            .distinct()
        )
        return {row for row in rows if row is not None}

    async def record_receipt(
        self,
        *,
        provider_message_id: str,
        status: str,
        reported_at: datetime,
        error: str | None,
    ) -> int:
        """Record the receipt on the delivery (deliveries) holding ``provider_message_id``
        unless it already has one reported at the same time or later: a repeated push
        changes nothing, an older report never overwrites a newer one. Returns the rows
        changed (0: unknown id, or nothing new)."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.provider_message_id == provider_message_id,
                or_(Delivery.receipt_at.is_(None), Delivery.receipt_at < reported_at),
            )
            .values(receipt_status=status, receipt_at=reported_at, receipt_error=error)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
