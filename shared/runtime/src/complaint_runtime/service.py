"""What every service process runs besides its routes: database, migrations, outbox relay,
consumers, health and metrics endpoints, and a lifespan that starts and stops them in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from complaint_contracts.base import EventData
from complaint_contracts.topics import Topic, dead_letter_topic
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from complaint_runtime.consumer import EventConsumer, Handler, Preload
from complaint_runtime.database import Database
from complaint_runtime.kafka import idempotent_producer, wait_for_topics
from complaint_runtime.logs import configure_logging
from complaint_runtime.middleware import BodyLimitMiddleware, RequestContextMiddleware
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.outbox import OutboxRelay
from complaint_runtime.problems import install_problem_handlers
from complaint_runtime.retries import retrying
from complaint_runtime.settings import ServiceSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _ConsumerSpec:
    group_id: str
    topics: tuple[Topic, ...]
    handlers: dict[type[EventData], Handler]
    apply_batch_at_once: bool
    preload: Preload | None


class ServiceRuntime:
    """The moving parts of one service process, started and stopped by its lifespan."""

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        migrations: Path,
        produces: Sequence[Topic],
    ):
        self.settings = settings
        self.migrations = migrations
        self.produces = tuple(produces)
        self.database = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_timeout_s=settings.db_statement_timeout_s,
        )
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[EventConsumer] = []
        self._consumer_specs: list[_ConsumerSpec] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.dead_letter_topic = dead_letter_topic(settings.service_name)
        self.on_started: list[Callable[[], Awaitable[None]]] = []
        # Run when the service stops, after its loops and before the database closes.
        self.on_stopping: list[Callable[[], Awaitable[None]]] = []
        # Run after migrations, before any consumer or background loop: seed data that
        # handlers rely on (e.g. routing's agents) goes here.
        self.on_migrated: list[Callable[[], Awaitable[None]]] = []
        self._background: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._stop_background: list[Callable[[], None]] = []

    def consume(
        self,
        *,
        topics: Sequence[Topic],
        handlers: Mapping[type[EventData], Handler],
        apply_batch_at_once: bool = False,
        preload: Preload | None = None,
    ) -> None:
        """Declare a consumer group (named after the service) over these topics.
        ``apply_batch_at_once``: the handlers only write to this database, so a poll may
        be applied in one go (see EventConsumer._process_at_once), after ``preload``
        read what its handlers will read."""
        self._consumer_specs.append(
            _ConsumerSpec(
                self.settings.service_name,
                tuple(topics),
                dict(handlers),
                apply_batch_at_once,
                preload,
            )
        )

    def run_in_background(
        self, name: str, run: Callable[[], Awaitable[None]], *, stop: Callable[[], None]
    ) -> None:
        """A service-specific loop (e.g. firing due timers), supervised like the relay:
        restarted after a crash, asked to ``stop`` on shutdown."""
        self._background.append((name, run))
        self._stop_background.append(stop)

    def all_topics(self) -> tuple[Topic, ...]:
        consumed = tuple(t for spec in self._consumer_specs for t in spec.topics)
        wanted = (*self.produces, *consumed)
        if self._consumer_specs:
            wanted = (*wanted, self.dead_letter_topic)
        return tuple(dict.fromkeys(wanted))

    async def start(self) -> None:
        settings = self.settings
        if settings.migrate_on_start:
            await upgrade_to_head(self.migrations, settings.database_url)
        for hook in self.on_migrated:
            await hook()
        await wait_for_topics(settings.kafka_bootstrap_servers, self.all_topics())
        self.producer = idempotent_producer(
            settings.kafka_bootstrap_servers, request_timeout_ms=settings.kafka_request_timeout_ms
        )
        await self.producer.start()
        self.relay = OutboxRelay(
            database=self.database,
            producer=self.producer,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
        )
        self.database.on_events_committed = self.relay.wake
        self._tasks.append(_supervised("outbox-relay", self.relay.run))
        for spec in self._consumer_specs:
            consumer = EventConsumer(
                database=self.database,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                group_id=spec.group_id,
                topics=[t.name for t in spec.topics],
                handlers=spec.handlers,
                dead_letter_topic=self.dead_letter_topic.name,
                producer=self.producer,
                batch_size=settings.consumer_batch_size,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff_s=settings.consumer_retry_backoff_s,
                session_timeout_ms=settings.consumer_session_timeout_ms,
                apply_batch_at_once=spec.apply_batch_at_once,
                preload=spec.preload,
                fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
                fetch_min_bytes=settings.consumer_fetch_min_bytes,
                commit_interval_s=settings.consumer_commit_interval_ms / 1000,
            )
            self.consumers.append(consumer)
            self._tasks.append(_supervised(f"consumer-{spec.group_id}", consumer.run))
        for name, run in self._background:
            self._tasks.append(_supervised(name, run))
        for hook in self.on_started:
            await hook()
        log.info("service started", topics=[t.name for t in self.all_topics()])

    async def stop(self) -> None:
        for consumer in self.consumers:
            consumer.stop()
        for stop in self._stop_background:
            stop()
        if self.relay:
            self.relay.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for hook in self.on_stopping:
            await hook()
        if self.producer:
            await self.producer.stop()
        await self.database.dispose()
        log.info("service stopped")

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.database.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            if self.producer is None:
                raise RuntimeError("not started")
            ok = await asyncio.wait_for(self.producer.client.force_metadata_update(), timeout=2)
            checks["kafka"] = "ok" if ok else "unavailable: no metadata"
        except Exception as exc:
            checks["kafka"] = f"unavailable: {type(exc).__name__}"
        return checks


def _supervised(name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Run a background loop forever: a crash is logged and the loop restarted; a clean
    return means it was asked to stop."""

    async def supervise() -> None:
        async for attempt in retrying(
            "background task crashed, restarting",
            initial_s=0.5,
            max_s=10.0,
            crash=True,
            task=name,
        ):
            with attempt:
                await run()

    return asyncio.create_task(supervise(), name=name)


def health_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/livez", summary="The process is alive")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Database and broker are reachable")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def build_app(
    *,
    runtime: ServiceRuntime,
    title: str,
    version: str | None = None,
    routers: Sequence[APIRouter] = (),
    **fastapi_kwargs: Any,
) -> FastAPI:
    settings = runtime.settings
    configure_logging(
        service=settings.service_name, level=settings.log_level, json=settings.log_json
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # The platform's packages are released together: the runtime's version is the service's.
    version = version or metadata.version("complaint-runtime")
    app = FastAPI(title=title, version=version, lifespan=lifespan, **fastapi_kwargs)
    app.state.runtime = runtime
    install_problem_handlers(app, retry_after_s=settings.retry_after_s)
    app.include_router(health_router(runtime))
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime
