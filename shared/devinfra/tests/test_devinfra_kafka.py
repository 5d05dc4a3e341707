"""A real broker: topics, idempotent produce, read_committed consume, crash and restart."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata
from complaint_devinfra import KafkaEndpoint, KafkaError, LocalKafka
from complaint_devinfra import kafka as kafka_module
from complaint_devinfra.kafka import KafkaRestartWarning


def _topic(prefix: str) -> str:
    return f"devinfra-{prefix}-{uuid.uuid4().hex[:8]}"


async def _produce(bootstrap: str, topic: str, value: bytes) -> RecordMetadata:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        return await producer.send_and_wait(topic, value, key=b"complaint-1")
    finally:
        await producer.stop()


async def _read_partition(bootstrap: str, topic: str, partition: int, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level="read_committed",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    await consumer.start()
    try:
        await consumer.seek_to_beginning(tp)
        values: list[bytes] = []
        while len(values) < count:
            record = await asyncio.wait_for(consumer.getone(), timeout=20)
            assert record.value is not None
            values.append(record.value)
        return values
    finally:
        await consumer.stop()


async def test_topics_produce_and_consume_in_a_group(local_kafka: KafkaEndpoint) -> None:
    topic = _topic("smoke")
    local_kafka.create_topics([(topic, 3)])
    local_kafka.create_topics([(topic, 3)])  # idempotent

    sent = await _produce(local_kafka.bootstrap_servers, topic, b"hello")

    # A consumer group exercises the group coordinator and __consumer_offsets.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=local_kafka.bootstrap_servers,
        group_id=f"g-{topic}",
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert (record.value, record.partition, record.offset) == (b"hello", sent.partition, 0)


async def test_broker_killed_and_restarted_keeps_data(local_kafka: KafkaEndpoint) -> None:
    if not isinstance(local_kafka, LocalKafka):
        pytest.skip("external Kafka cannot be killed by the test")
    topic = _topic("crash")
    local_kafka.create_topics([(topic, 1)])
    await _produce(local_kafka.bootstrap_servers, topic, b"before")
    port, data_dir = local_kafka.port, local_kafka.data_dir

    local_kafka.kill()
    assert not local_kafka.is_running
    local_kafka.start()

    assert (local_kafka.port, local_kafka.data_dir) == (port, data_dir)
    await _produce(local_kafka.bootstrap_servers, topic, b"after")
    values = await _read_partition(local_kafka.bootstrap_servers, topic, 0, 2)
    assert values == [b"before", b"after"]
    assert local_kafka.log_path is not None
    assert local_kafka.log_path.is_file()


def test_start_failure_raises_with_the_cause_from_the_broker_log() -> None:
    # The controller listener binds first, so a taken controller port fails fastest.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        kafka = LocalKafka(controller_port=taken.getsockname()[1], startup_timeout=30)
        try:
            with pytest.raises(KafkaError, match="exited with code") as info:
                kafka.start()
        finally:
            kafka.destroy()
    assert "Address already in use" in str(info.value)
    assert not kafka.is_running


async def _commit_in_group(bootstrap: str, topic: str, group: str) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
    finally:
        await consumer.stop()


async def _group_errors(bootstrap: str, group: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
        return [described[0] for response in responses for described in response.groups]
    finally:
        await admin.close()


def test_the_readiness_groups_cover_every_offsets_partition_as_kafka_places_them() -> None:
    # Java: "hello".hashCode() == 99162322; Kafka places a group by abs(hash) % partitions.
    assert kafka_module._java_string_hash("hello") == 99162322
    assert kafka_module._java_string_hash("polygenelubricants") == -(1 << 31)
    assert kafka_module.offsets_partition("polygenelubricants", 10) == 0  # Utils.abs(MIN) = 0
    groups = kafka_module.readiness_groups(10)
    assert [kafka_module.offsets_partition(g, 10) for g in groups] == list(range(10))


def test_the_group_probe_answers_with_several_groups() -> None:
    """aiokafka misreads a DescribeGroups answer with two groups: asked all at once, the
    probe never passed on a broker with two groups or more."""
    kafka = LocalKafka(startup_timeout=30)
    try:
        kafka.start()
        topic = _topic("probe")
        kafka.create_topics([(topic, 1)])
        asyncio.run(_produce(kafka.bootstrap_servers, topic, b"x"))
        for group in ("probe-a", "probe-b", "probe-c"):
            asyncio.run(_commit_in_group(kafka.bootstrap_servers, topic, group))
        assert asyncio.run(kafka._answers_groups())
    finally:
        kafka.destroy()


def test_a_restart_whose_group_coordinator_hangs_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted broker counts as started once its groups answer; one that hangs there
    is killed (its thread dump kept where the suite's clean-up leaves it) and started
    again, more than once if need be."""
    monkeypatch.setenv("KAFKA_HANG_DIR", str(tmp_path / "hangs"))
    kafka = LocalKafka(startup_timeout=30, restart_timeout=8)
    try:
        kafka.start()
        topic, group = _topic("hang"), f"g-hang-{uuid.uuid4().hex[:8]}"
        kafka.create_topics([(topic, 1)])
        asyncio.run(_produce(kafka.bootstrap_servers, topic, b"before"))
        asyncio.run(_commit_in_group(kafka.bootstrap_servers, topic, group))
        kafka.kill()

        answers = kafka._answers_groups
        hung_pids: list[int | None] = []

        async def hangs_twice() -> bool:
            """The first two processes never answer, as a hung broker would not."""
            if kafka.pid not in hung_pids and len(hung_pids) < 2:
                hung_pids.append(kafka.pid)
            if kafka.pid in hung_pids:
                return False
            return await answers()

        kafka._answers_groups = hangs_twice  # type: ignore[method-assign]
        with pytest.warns(KafkaRestartWarning, match="group coordinator not ready") as warned:
            kafka.start()

        assert [str(w.message).rsplit("(", 1)[-1] for w in warned] == ["attempt 2)", "attempt 3)"]
        assert kafka.is_running
        assert kafka.pid not in hung_pids
        assert kafka.stdout_path is not None
        assert kafka.stdout_path.read_text(errors="replace").count("Full thread dump") == 2
        # Each hung attempt's dump and log were copied out, and the warning says where.
        kept = sorted((tmp_path / "hangs").iterdir())
        assert [k.name.rsplit("-", 1)[-1] for k in kept] == ["attempt1", "attempt2"]
        for attempt, copy in zip(warned, kept, strict=True):
            assert str(copy) in str(attempt.message)
            assert "Full thread dump" in (copy / "kafka.out").read_text(errors="replace")
            assert (copy / "broker.log").stat().st_size > 0
        # Started means the group coordinator answers for the group committed before.
        assert asyncio.run(_group_errors(kafka.bootstrap_servers, group)) == [0]
    finally:
        kafka.destroy()
