"""Topic creation on the real broker: every topic carries its retention.ms, whether the
runtime created it or found it (then only the topic's own producer sets it)."""

from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from complaint_contracts.topics import Topic
from complaint_devinfra.kafka import KafkaEndpoint
from complaint_runtime.kafka import RETENTION, ensure_topics, topic_overrides
from complaint_runtime.retries import retrying

DAY_MS = 24 * 3600 * 1000


def _topic(kind: str, retention_ms: int, partitions: int = 2) -> Topic:
    return Topic(f"retention-{kind}-{uuid.uuid4().hex[:8]}", "test", partitions, kind, retention_ms)


async def _create_bare(bootstrap: str, name: str, configs: dict[str, str]) -> None:
    """A topic as an older version or an operator left it: no retention of ours."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=configs)])
    finally:
        await admin.close()
    # The broker describes a new topic only once its metadata arrived.
    async for attempt in retrying(
        "topic not described yet", initial_s=0.05, max_s=0.5, give_up_after_s=30
    ):
        with attempt:
            await topic_overrides(bootstrap, [name])


async def test_created_topics_carry_their_retention(local_kafka: KafkaEndpoint) -> None:
    bootstrap = local_kafka.bootstrap_servers
    events, letters = _topic("events", 2 * DAY_MS, 3), _topic("letters", 30 * DAY_MS, 1)

    await ensure_topics(bootstrap, [events, letters])
    await ensure_topics(bootstrap, [events, letters])  # idempotent

    configs = await topic_overrides(bootstrap, [events.name, letters.name])
    assert configs[events.name][RETENTION] == str(2 * DAY_MS)
    assert configs[letters.name][RETENTION] == str(30 * DAY_MS)


async def test_an_owned_existing_topic_gets_its_retention_and_keeps_other_settings(
    local_kafka: KafkaEndpoint,
) -> None:
    bootstrap = local_kafka.bootstrap_servers
    owned, foreign = _topic("owned", 3 * DAY_MS), _topic("foreign", 3 * DAY_MS)
    for topic in (owned, foreign):
        await _create_bare(bootstrap, topic.name, {"max.message.bytes": "2000000"})

    await ensure_topics(bootstrap, [owned, foreign], owned={owned.name})

    configs = await topic_overrides(bootstrap, [owned.name, foreign.name])
    assert configs[owned.name][RETENTION] == str(3 * DAY_MS)
    assert configs[owned.name]["max.message.bytes"] == "2000000"  # not reset by AlterConfigs
    # Another service's topic: its producer sets its retention, not a consumer.
    assert RETENTION not in configs[foreign.name]
    assert configs[foreign.name]["max.message.bytes"] == "2000000"

    changed = Topic(owned.name, "test", 1, "owned", 5 * DAY_MS)
    await ensure_topics(bootstrap, [changed], owned={owned.name})
    configs = await topic_overrides(bootstrap, [owned.name])
    assert configs[owned.name][RETENTION] == str(5 * DAY_MS)
    assert configs[owned.name]["max.message.bytes"] == "2000000"
