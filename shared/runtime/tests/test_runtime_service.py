"""A service without its broker: it starts, stays ready, takes events into its outbox and
reports the broker and the backlog as metrics; readiness is the database alone."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from complaint_contracts import topics
from complaint_contracts.events import ComplaintTriaged
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime import service as service_module
from complaint_runtime.database import OutboxMessage, utcnow
from complaint_runtime.outbox import measure_backlog
from complaint_runtime.service import ServiceRuntime, build_app
from complaint_runtime.settings import ServiceSettings
from complaint_runtime.testing import sqlite_database
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

# Only a guard against a hang (the old start-up waited 60 s for the broker), not a speed bar.
HANG_GUARD_S = 20


def _closed_port() -> int:
    """A loopback port nothing listens on: every connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def runtime(tmp_path: Path) -> ServiceRuntime:
    path = tmp_path / "service.db"
    await (await sqlite_database(path)).dispose()  # the runtime's own tables
    settings = ServiceSettings(
        service_name="routing",
        database_url=f"sqlite+aiosqlite:///{path}",
        kafka_bootstrap_servers=f"127.0.0.1:{_closed_port()}",
        migrate_on_start=False,
        health_probe_interval_s=60,
        log_json=False,
    )
    service = ServiceRuntime(settings=settings, migrations=tmp_path, produces=[topics.ROUTING])
    service.consume(topics=[topics.INTAKE], handlers={})
    return service


async def _get(runtime: ServiceRuntime, path: str) -> httpx.Response:
    app = build_app(runtime=runtime, title="test")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def _stage_event(runtime: ServiceRuntime) -> None:
    async with runtime.database.unit_of_work() as uow:
        uow.add_event(
            example_for(ComplaintTriaged),
            topic=topics.ROUTING.name,
            source="routing",
            subject=COMPLAINT_ID,
        )


async def test_start_returns_without_a_broker_and_stop_is_clean(runtime: ServiceRuntime) -> None:
    await asyncio.wait_for(runtime.start(), timeout=HANG_GUARD_S)
    try:
        assert not runtime.kafka_connected.is_set()
        assert runtime.producer is None
        assert runtime.relay is None
        assert runtime.consumers == []
    finally:
        await asyncio.wait_for(runtime.stop(), timeout=HANG_GUARD_S)
    left = {task.get_name() for task in asyncio.all_tasks()}  # those not done
    assert not left & {"kafka-connect", "health-probe"}, left


class _StuckProducer:
    """A producer whose flush never ends: the broker went away with records in flight."""

    async def stop(self) -> None:
        await asyncio.Event().wait()


async def test_stop_does_not_wait_for_a_producer_that_cannot_flush(
    runtime: ServiceRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "PRODUCER_CLOSE_TIMEOUT_S", 0.1)
    await runtime.start()
    runtime.producer = cast(AIOKafkaProducer, _StuckProducer())
    await asyncio.wait_for(runtime.stop(), timeout=HANG_GUARD_S)


async def test_ready_with_the_database_while_the_broker_is_down(runtime: ServiceRuntime) -> None:
    await asyncio.wait_for(runtime.start(), timeout=HANG_GUARD_S)
    try:
        ready = await _get(runtime, "/readyz")
        kafka = await _get(runtime, "/healthz/kafka")
    finally:
        await runtime.stop()
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok"}
    assert body["informational"]["kafka"].startswith("unavailable")
    assert kafka.status_code == 503
    assert kafka.json()["kafka"].startswith("unavailable")


async def test_readiness_still_follows_the_database(tmp_path: Path) -> None:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/directory/service.db",
        kafka_bootstrap_servers=f"127.0.0.1:{_closed_port()}",
        log_json=False,
    )
    runtime = ServiceRuntime(settings=settings, migrations=tmp_path, produces=[])
    response = await _get(runtime, "/readyz")
    await runtime.database.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unavailable")


async def test_events_wait_in_the_outbox_and_the_backlog_is_measured(
    runtime: ServiceRuntime,
) -> None:
    await runtime.start()
    try:
        await _stage_event(runtime)
        await _stage_event(runtime)
        await runtime.probe.measure()  # what the probe's loop does every interval
        assert REGISTRY.get_sample_value("outbox_backlog") == 2
        assert REGISTRY.get_sample_value("kafka_broker_reachable") == 0
        assert (REGISTRY.get_sample_value("outbox_oldest_age_seconds") or 0) >= 0
    finally:
        await runtime.stop()


async def test_measure_backlog_counts_rows_and_ages_the_oldest(runtime: ServiceRuntime) -> None:
    empty = await measure_backlog(runtime.database)
    assert (empty.rows, empty.oldest_age_s) == (0, 0.0)
    await _stage_event(runtime)
    await _stage_event(runtime)
    async with runtime.database.sessions() as session, session.begin():
        oldest = await session.scalar(select(func.min(OutboxMessage.id)))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == oldest)
            .values(created_at=utcnow() - timedelta(minutes=5))
        )
    backlog = await measure_backlog(runtime.database)
    await runtime.database.dispose()
    assert backlog.rows == 2
    assert backlog.oldest_age_s >= 300


def test_every_topic_gets_its_configured_retention(runtime: ServiceRuntime) -> None:
    configured = {t.name: t.retention_ms for t in runtime._configured_topics()}
    settings = runtime.settings
    assert configured == {
        topics.ROUTING.name: settings.kafka_event_retention_ms,
        topics.INTAKE.name: settings.kafka_event_retention_ms,
        "complaints.dlq.routing.v1": settings.kafka_dead_letter_retention_ms,
    }
    assert settings.kafka_event_retention_ms == 7 * 24 * 3600 * 1000
    assert settings.kafka_dead_letter_retention_ms == 30 * 24 * 3600 * 1000


async def test_a_service_publishes_the_public_half_of_its_signing_key(tmp_path: Path) -> None:
    from complaint_runtime.dev_identity import DevIdentity

    identity = DevIdentity.generate()
    keys = {name.lower(): value for name, value in identity.env("notify").items()}
    settings = ServiceSettings(
        service_name="notify", database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", **keys
    )
    runtime = ServiceRuntime(settings=settings, migrations=tmp_path, produces=[])
    (published,) = (await _get(runtime, "/.well-known/jwks.json")).json()["keys"]
    assert published == identity.services["notify"].public_jwk()
    assert "d" not in published
    caller = runtime.service_caller()
    assert identity.verifier("intake").verify(caller.token_for("intake")).service == "notify"
    bare = ServiceRuntime(
        settings=ServiceSettings(database_url=settings.database_url),
        migrations=tmp_path,
        produces=[],
    )
    assert (await _get(bare, "/.well-known/jwks.json")).json() == {"keys": []}
    await runtime.database.dispose()
    await bare.database.dispose()
