"""Reading and writing raw Kafka records from the tests (aiokafka, no consumer group)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

POISON_HEADER = "x-test-poison"


def produce(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]],
    *,
    partition: int | None = None,
) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for key, value, headers in records:
                await producer.send_and_wait(
                    topic, value=value, key=key, headers=headers, partition=partition
                )
        finally:
            await producer.stop()

    asyncio.run(run())


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record currently on the topic (committed and not), up to its end offsets."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or ())
            ]
            if not partitions:
                await consumer._client.force_metadata_update()
                partitions = [
                    TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or ())
                ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[Any] = []
            remaining = {tp for tp in partitions if ends[tp] > 0}
            while remaining:
                batch = await consumer.getmany(timeout_ms=1000)
                for tp, items in batch.items():
                    records.extend(r for r in items if r.offset < ends[tp])
                    if items and items[-1].offset >= ends[tp] - 1:
                        remaining.discard(tp)
                if not batch:
                    remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
            return records
        finally:
            await consumer.stop()

    return asyncio.run(run())


def header(record: Any, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None
