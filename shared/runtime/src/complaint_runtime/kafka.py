"""Kafka clients configured the way the platform's guarantees need them."""

from __future__ import annotations

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from complaint_contracts.topics import Topic

from complaint_runtime.retries import retrying

log = structlog.get_logger(__name__)


def idempotent_producer(bootstrap_servers: str, *, request_timeout_ms: int) -> AIOKafkaProducer:
    """acks=all + idempotence: no loss on leader change, no duplicates from client retries,
    and per-partition order kept across retries (so per-complaint order holds)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=request_timeout_ms,
        compression_type=None,
    )


async def ensure_topics(bootstrap_servers: str, topics: tuple[Topic, ...]) -> None:
    """Create the topics a service touches when they are missing (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if not missing:
            return
        try:
            await admin.create_topics(
                [
                    NewTopic(t.name, num_partitions=t.partitions, replication_factor=1)
                    for t in missing
                ]
            )
        except TopicAlreadyExistsError:
            pass  # another service created it between list and create
        log.info("topics created", topics=[t.name for t in missing])
    finally:
        await admin.close()


async def wait_for_topics(
    bootstrap_servers: str, topics: tuple[Topic, ...], *, timeout_s: float = 60.0
) -> None:
    """Retry topic creation until the broker answers (it may start after the service)."""
    async for attempt in retrying(
        "kafka not reachable yet", initial_s=0.2, max_s=5.0, give_up_after_s=timeout_s
    ):
        with attempt:
            await ensure_topics(bootstrap_servers, topics)
