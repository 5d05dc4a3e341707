"""A Kafka cluster reachable at some bootstrap address, and topic creation on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from complaint_devinfra import _proc

TopicSpec = tuple[str, int]
_TOPIC_ALREADY_EXISTS = 36


class KafkaError(RuntimeError):
    """The broker could not be started, reached or configured."""


class KafkaEndpoint:
    """A Kafka cluster somebody else runs (``KAFKA_BOOTSTRAP_SERVERS``).

    :class:`LocalKafka` extends it; tests can take either without caring.
    """

    is_local = False

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        return self._bootstrap_servers

    @property
    def log_path(self) -> Path | None:
        return None

    def log_tail(self, _lines: int = 60) -> str:
        return "(external Kafka: no broker log available)"

    def start(self) -> None:
        """Nothing to start for an external cluster."""

    def stop(self) -> None:
        """Nothing to stop for an external cluster."""

    def destroy(self) -> None:
        """Nothing to remove for an external cluster."""

    def create_topics(
        self, topics: Sequence[TopicSpec], *, replication_factor: int = 1, timeout_s: float = 30.0
    ) -> None:
        """Create ``(name, partitions)`` topics; existing ones are left as they are.

        Returns once every partition has a leader, so producing right after
        cannot hit UNKNOWN_TOPIC_OR_PARTITION / LEADER_NOT_AVAILABLE.
        """
        _proc.run_sync(
            lambda: self.create_topics_async(
                topics, replication_factor=replication_factor, timeout_s=timeout_s
            )
        )

    async def create_topics_async(
        self, topics: Sequence[TopicSpec], *, replication_factor: int = 1, timeout_s: float = 30.0
    ) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        wanted: dict[str, int] = {}
        for name, partitions in topics:
            if wanted.setdefault(name, partitions) != partitions:
                raise ValueError(f"topic {name!r} listed with different partition counts")
        if not wanted:
            return
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
        )
        await admin.start()
        try:
            response = await admin.create_topics(
                [NewTopic(name, parts, replication_factor) for name, parts in wanted.items()],
                timeout_ms=int(timeout_s * 1000),
            )
            failures = [
                f"{entry[0]}: error {entry[1]} {entry[2] if len(entry) > 2 else ''}".strip()
                for entry in response.topic_errors
                if entry[1] not in (0, _TOPIC_ALREADY_EXISTS)
            ]
            if failures:
                raise KafkaError("creating topics failed: " + "; ".join(failures))
            await _wait_for_leaders(admin, list(wanted), timeout_s)
        finally:
            await admin.close()

    def __enter__(self) -> KafkaEndpoint:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bootstrap_servers={self.bootstrap_servers!r})"


async def _wait_for_leaders(admin: Any, names: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        described = await admin.describe_topics(names)
        if all(
            topic["error_code"] == 0
            and topic["partitions"]
            and all(p["leader"] >= 0 for p in topic["partitions"])
            for topic in described
        ):
            return
        if time.monotonic() > deadline:
            raise KafkaError(f"topics {names} have no leaders after {timeout_s} s: {described}")
        await asyncio.sleep(0.1)
