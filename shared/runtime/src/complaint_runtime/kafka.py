"""Kafka clients configured the way the platform's guarantees need them, and the topics they
use, created (or brought to their configured retention) at start-up."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, for_code
from complaint_contracts.topics import Topic

log = structlog.get_logger(__name__)

RETENTION = "retention.ms"
# DescribeConfigs' config_source of a value set on the topic itself (not a broker default).
_TOPIC_CONFIG_SOURCE = 1


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


async def ensure_topics(
    bootstrap_servers: str,
    topics: Sequence[Topic],
    *,
    owned: Collection[str] = (),
    request_timeout_ms: int = 15000,
) -> None:
    """Create the missing ``topics`` with their partitions and ``retention.ms``
    (idempotent), and give those of them named in ``owned`` that already exist their
    ``retention.ms`` (a topic created by an older version, by hand or by the test harness).

    Only a topic's own producer (``owned``) changes an existing topic's retention: one writer
    per topic setting, so services configured differently cannot undo each other's value.
    Raises while the broker is unreachable (the caller retries)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=request_timeout_ms
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            existing |= await _create(admin, missing)
        await _set_retention(admin, [t for t in topics if t.name in existing and t.name in owned])
    finally:
        await admin.close()


async def topic_overrides(
    bootstrap_servers: str, names: Iterable[str]
) -> dict[str, dict[str, str]]:
    """The configuration set on each topic itself, not inherited from the broker's defaults
    (what a test or an operator checks: Kafka's own default retention is 7 days too)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await _describe(admin, list(names))
    finally:
        await admin.close()
    return {name: _overrides(entries) for name, entries in described.items()}


async def _create(admin: AIOKafkaAdminClient, topics: Sequence[Topic]) -> set[str]:
    """Creates ``topics``; returns those that existed already (created meanwhile by another
    service, or not yet in the metadata the broker answered the listing with)."""
    response = await admin.create_topics(
        [
            NewTopic(
                t.name,
                num_partitions=t.partitions,
                replication_factor=1,
                topic_configs={RETENTION: str(t.retention_ms)},
            )
            for t in topics
        ]
    )
    existed = set()
    for name, code, *_message in response.topic_errors:
        if code == TopicAlreadyExistsError.errno:
            existed.add(name)
        elif code != 0:
            raise for_code(code)(f"creating topic {name}")
    created = {t.name: {RETENTION: t.retention_ms} for t in topics if t.name not in existed}
    if created:
        log.info("topics created", topics=created)
    return existed


async def _set_retention(admin: AIOKafkaAdminClient, topics: Sequence[Topic]) -> None:
    """AlterConfigs (aiokafka has no incremental variant) replaces a topic's whole set of
    overrides, so each topic's other overrides are sent back with it unchanged."""
    if not topics:
        return
    current = await _describe(admin, [t.name for t in topics])
    changes: list[ConfigResource] = []
    for topic in topics:
        overrides = _overrides(current[topic.name])
        if overrides.get(RETENTION) == str(topic.retention_ms):
            continue
        changes.append(
            ConfigResource(
                ConfigResourceType.TOPIC,
                topic.name,
                {**overrides, RETENTION: str(topic.retention_ms)},
            )
        )
    if not changes:
        return
    for response in await admin.alter_configs(changes):
        for code, message, _kind, name in response.resources:
            if code != 0:
                raise for_code(code)(f"setting {RETENTION} of {name}: {message}")
    log.info(
        "topic retention set",
        topics={change.name: change.configs[RETENTION] for change in changes},
    )


async def _describe(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, list[dict[str, Any]]]:
    if not names:
        return {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    described: dict[str, list[dict[str, Any]]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            if resource["error_code"] != 0:
                raise for_code(resource["error_code"])(
                    f"describing {resource['resource_name']}: {resource['error_message']}"
                )
            described[resource["resource_name"]] = resource["config_entries"]
    return described


def _overrides(entries: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The values set on the topic itself (DescribeConfigs v1+ says so in config_source;
    v0 only whether a value is a default)."""
    return {
        entry["config_names"]: entry["config_value"]
        for entry in entries
        if entry["config_value"] is not None
        and (
            entry["config_source"] == _TOPIC_CONFIG_SOURCE
            if "config_source" in entry
            else not entry["is_default"]
        )
    }
