"""sla-watch's firing round and triaged consumer in one process against a throw-away
PostgreSQL (``complaint_devinfra.LocalPostgres``, fsync off), no Kafka, for profiling:

    .venv/bin/python bench/profiled_sla.py [--fire N] [--arm N] [--profile]

``--fire N`` clocks due now are COPY'd into ``clocks`` (as the sla phase places them) and
fired by :func:`sla_watch.firing.service.fire_due` rounds of 500; ``--arm N`` ``complaint.triaged``
records are applied by the service's consumer batch logic (``EventConsumer._process_batch``,
batches of 500, applied at once as sla-watch configures it). Prints clocks/s and
complaints/s, and with ``--profile`` the cProfile statistics of each part.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg
from complaint_contracts import topics
from complaint_contracts.envelope import encode
from complaint_contracts.events import ComplaintTriaged
from complaint_devinfra.postgres import LocalPostgres
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database
from complaint_runtime.logs import configure_logging
from complaint_runtime.migrations import upgrade_to_head
from sla_clocks import ClockRows
from sla_watch import messaging
from sla_watch.clocks.settings import ClockSettings
from sla_watch.firing.service import fire_due
from sla_watch.main import MIGRATIONS
from sla_watch.policies.terms_source import StoredTerms

BATCH = 500


def triaged_records(count: int) -> list[Any]:
    """Consumer records as aiokafka hands them over (only the fields the consumer reads)."""
    records = []
    for i in range(count):
        complaint_id = str(uuid.uuid4())
        data = ComplaintTriaged(
            complaint_id=complaint_id,
            category="product_quality",
            confidence=0.9,
            priority=("P1", "P2", "P3", "P4")[i % 4],
            emotion="yellow",
            channel="web",
            customer_tier="standard",
        )
        _, record = encode(
            data, topic=topics.ROUTING.name, source=topics.ROUTING.producer, subject=complaint_id
        )
        records.append(
            SimpleNamespace(
                topic=record.topic,
                key=record.key,
                value=record.value,
                headers=list(record.headers),
                partition=0,
                offset=i,
            )
        )
    return records


def report(profiler: cProfile.Profile | None) -> None:
    if profiler is not None:
        profiler.dump_stats(f"/tmp/profiled_sla_{time.time():.0f}.pstats")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


async def fire(url: str, db: Database, settings: ClockSettings, count: int, profile: bool) -> None:
    builder = ClockRows()
    now = time.time()
    rows, _ = builder.rows([now - 30 + i * 1e-4 for i in range(count)], datetime.now(UTC))
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.copy_records_to_table("clocks", records=rows, columns=builder.columns)
    finally:
        await conn.close()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    handled = 0
    while (done := await fire_due(database=db, settings=settings, batch=BATCH)) > 0:
        handled += done
    if profiler is not None:
        profiler.disable()
    took = time.perf_counter() - started
    print(f"fire: {handled:,} clocks in {took:.2f} s, {handled / took:,.0f} clocks/s")
    report(profiler)


async def arm(db: Database, settings: ClockSettings, count: int, profile: bool) -> None:
    records = triaged_records(count)
    consumer = EventConsumer(
        database=db,
        bootstrap_servers="127.0.0.1:1",  # never started: only its batch logic runs
        group_id="sla-watch",
        topics=[topics.ROUTING.name],
        handlers=messaging.handlers(settings),
        dead_letter_topic="complaints.dlq.sla-watch.v1",
        producer=None,
        apply_batch_at_once=True,
    )
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for first in range(0, count, BATCH):
        await consumer._process_batch(records[first : first + BATCH])
    if profiler is not None:
        profiler.disable()
    took = time.perf_counter() - started
    print(f"arm: {count:,} complaints in {took:.2f} s, {count / took:,.0f} complaints/s")
    report(profiler)


async def main(args: argparse.Namespace) -> None:
    # The service's JSON lines through the standard library, as in production (structlog's
    # default console printer costs differently); they go to stderr.
    configure_logging(service="sla-watch")
    postgres = LocalPostgres(fsync=False)
    postgres.start()
    try:
        url = await postgres.create_database_async("sla_profile")
        await upgrade_to_head(MIGRATIONS, url)
        db = Database(url)
        settings = ClockSettings(terms=StoredTerms())
        try:
            if args.fire:
                await fire(url, db, settings, args.fire, args.profile)
            if args.arm:
                await arm(db, settings, args.arm, args.profile)
        finally:
            await db.dispose()
    finally:
        postgres.stop()
        postgres.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fire", type=int, default=3000, help="clocks due now to fire")
    parser.add_argument("--arm", type=int, default=2000, help="triaged complaints to arm")
    parser.add_argument("--profile", action="store_true", help="print cProfile statistics")
    asyncio.run(main(parser.parse_args()))
