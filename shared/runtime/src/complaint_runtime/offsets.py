"""Offsets a consumer has applied but not committed to Kafka yet, committed together.

Committing after every batch cost, under a trickle (a record or two per poll), one Kafka
request per batch in every consumer, and as much work in the broker, for nothing the
guarantee needs: an offset only tells Kafka where to resume. Records applied but not
committed yet are redelivered after a crash or a rebalance and dropped as duplicates by
their event ids (``processed_events``), in the same transaction that would have applied
them. So offsets are committed at most every ``interval_s`` while records keep coming, as
soon as a poll finds nothing, when partitions are revoked, and when the consumer stops.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping

import structlog
from aiokafka import ConsumerRebalanceListener, TopicPartition

log = structlog.get_logger(__name__)


class PendingOffsets:
    def __init__(self, *, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self._interval_s = interval_s
        self._clock = clock
        self._offsets: dict[TopicPartition, int] = {}
        self._committed_at = clock()

    def __bool__(self) -> bool:
        return bool(self._offsets)

    def add(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Offsets (the next record to read) of records applied and committed in the
        database; a later offset of a partition replaces an earlier one."""
        for partition, offset in offsets.items():
            self._offsets[partition] = max(offset, self._offsets.get(partition, offset))

    def due(self) -> bool:
        """Whether the pending offsets should go now (0 s: after every batch)."""
        return bool(self._offsets) and self._clock() - self._committed_at >= self._interval_s

    def take(
        self, partitions: Collection[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        """The pending offsets (of ``partitions`` only, when given), no longer pending."""
        if partitions is None:
            taken, self._offsets = self._offsets, {}
            self._committed_at = self._clock()
            return taken
        return {p: self._offsets.pop(p) for p in list(self._offsets) if p in partitions}


class CommitOnRevoke(ConsumerRebalanceListener):
    """Commits a revoked partition's applied offsets (``commit``) before it moves to another
    member (else the new owner reads those records again and skips them as duplicates:
    harmless, only slower)."""

    def __init__(self, commit: Callable[[Collection[TopicPartition]], Awaitable[None]]):
        self._commit = commit

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        try:
            await self._commit(revoked)
        except Exception as exc:
            log.warning("offsets of revoked partitions not committed", error=repr(exc))

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        del assigned  # nothing to do: the new partitions resume from their committed offset
