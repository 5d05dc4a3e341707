"""What every service process runs besides its routes: database, migrations, outbox relay,
consumers, health and metrics endpoints, and a lifespan that starts and stops them in order.

The HTTP API depends on the database only. Kafka is connected in the background, retried
until the broker answers (topics, producer, then relay and consumers): a service starts,
serves and stays ready while the broker is away, its events waiting in the outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
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

from complaint_runtime.audit_api import audit_router
from complaint_runtime.consumer import EventConsumer, Handler, Preload, Wants
from complaint_runtime.database import Database
from complaint_runtime.errors import NotConfigured
from complaint_runtime.health import DependencyProbe
from complaint_runtime.identity import ServiceCaller, TokenVerifier
from complaint_runtime.kafka import ensure_topics, idempotent_producer
from complaint_runtime.logs import configure_logging
from complaint_runtime.middleware import BodyLimitMiddleware, RequestContextMiddleware
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.outbox import OutboxRelay
from complaint_runtime.problems import install_problem_handlers
from complaint_runtime.pruning import processed_events_pruner
from complaint_runtime.retries import retrying
from complaint_runtime.settings import ServiceSettings
from complaint_runtime.signing_keys import SigningKey, TrustedKeys, jwks

log = structlog.get_logger(__name__)

# The longest wait between two attempts to reach the broker: it is the delay between the
# broker coming back and the service noticing, for one warning line per attempt.
CONNECT_RETRY_MAX_S = 5.0
# How long stopping waits for the producer to flush. With the broker away it never would;
# what it holds is safe to drop: outbox rows leave only once acknowledged, and a dead letter
# only with its consumer's transaction, so both are sent again after the restart.
PRODUCER_CLOSE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _ConsumerSpec:
    group_id: str
    topics: tuple[Topic, ...]
    handlers: dict[type[EventData], Handler]
    apply_batch_at_once: bool
    preload: Preload | None
    wants: Wants | None = None


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
        self.token_verifier = TokenVerifier(
            audience=settings.audience,
            trusted=TrustedKeys.parse(settings.auth_jwks),
            issuer=settings.auth_issuer,
            leeway_s=settings.auth_leeway_s,
            provider_jwks_url=settings.auth_jwks_url,
            provider_issuer=settings.auth_provider_issuer,
        )
        # The service's own identity for its calls to others (None: it calls nobody).
        self.signing_key = (
            SigningKey.from_jwk(settings.auth_signing_key) if settings.auth_signing_key else None
        )
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
        pruner = processed_events_pruner(self.database, settings)  # ids past their horizon
        self.run_in_background("prune-processed-events", pruner.run, stop=pruner.stop)
        self.probe = DependencyProbe(
            database=self.database, interval_s=settings.health_probe_interval_s
        )
        self._connector: asyncio.Task[None] | None = None
        # Set once topics, producer, relay and consumers are up (tests, operators' logs).
        self.kafka_connected = asyncio.Event()

    def service_caller(self) -> ServiceCaller:
        """Tokens naming this service for its calls to others; NotConfigured without a key."""
        if self.signing_key is None:
            raise NotConfigured(
                "AUTH_SIGNING_KEY is not set: this service cannot call other services.",
                kind="auth-not-configured",
            )
        return ServiceCaller(
            self.signing_key, issuer=self.settings.auth_issuer, ttl_s=self.settings.auth_token_ttl_s
        )

    def consume(
        self,
        *,
        topics: Sequence[Topic],
        handlers: Mapping[type[EventData], Handler],
        apply_batch_at_once: bool = False,
        preload: Preload | None = None,
        wants: Wants | None = None,
    ) -> None:
        """Declare a consumer group (named after the service) over these topics.
        ``apply_batch_at_once``: the handlers only write to this database, so a poll may
        be applied in one go (see EventConsumer._process_at_once), after ``preload``
        read what its handlers will read. ``wants``: whether an event its handlers cover is
        worth a handler now (False: ignored like an event without a handler)."""
        self._consumer_specs.append(
            _ConsumerSpec(
                self.settings.service_name,
                tuple(topics),
                dict(handlers),
                apply_batch_at_once,
                preload,
                wants,
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

    def _configured_topics(self) -> tuple[Topic, ...]:
        """The topics with the retention the settings give them (dead letters: their own)."""
        dead_letters = self.dead_letter_topic.name
        return tuple(
            replace(
                topic,
                retention_ms=self.settings.kafka_dead_letter_retention_ms
                if topic.name == dead_letters
                else self.settings.kafka_event_retention_ms,
            )
            for topic in self.all_topics()
        )

    async def start(self) -> None:
        """Migrations, then the service's own loops, and returns: Kafka is connected in
        the background (:meth:`_connect_kafka`), so nothing here waits for the broker.
        ``on_started`` hooks therefore must not assume a connected producer."""
        settings = self.settings
        if settings.migrate_on_start:
            await upgrade_to_head(self.migrations, settings.database_url)
        for hook in self.on_migrated:
            await hook()
        self._tasks.append(_supervised("health-probe", self.probe.run))
        self._connector = _supervised("kafka-connect", self._connect_kafka)
        for name, run in self._background:
            self._tasks.append(_supervised(name, run))
        for hook in self.on_started:
            await hook()
        log.info("service started", topics=[t.name for t in self.all_topics()])

    async def _connect_kafka(self) -> None:
        """Topics, producer, relay and consumers, in that order (the relay and consumers
        publish through the producer), each step retried until the broker answers. Safe to
        run again after a crash: what is up stays up."""
        settings = self.settings
        own = {t.name for t in self.produces} | {self.dead_letter_topic.name}
        async for attempt in retrying(
            "kafka not reachable yet, topics not ensured", initial_s=0.2, max_s=CONNECT_RETRY_MAX_S
        ):
            with attempt:
                await ensure_topics(
                    settings.kafka_bootstrap_servers,
                    self._configured_topics(),
                    owned=own,
                    request_timeout_ms=settings.kafka_request_timeout_ms,
                )
        if self.producer is None:
            self.producer = await self._start_producer()
        if self.relay is None:
            self.relay = OutboxRelay(
                database=self.database,
                producer=self.producer,
                batch_size=settings.outbox_batch_size,
                poll_interval_s=settings.outbox_poll_interval_s,
            )
            self.database.on_events_committed = self.relay.wake
            # Its first round publishes what was committed while the broker was away.
            self._tasks.append(_supervised("outbox-relay", self.relay.run))
        if not self.consumers:
            self._start_consumers(self.producer)
        self.probe.connected(self.producer)
        self.kafka_connected.set()
        log.info("kafka connected", topics=[t.name for t in self.all_topics()])

    async def _start_producer(self) -> AIOKafkaProducer:
        settings = self.settings
        async for attempt in retrying(
            "kafka not reachable yet, producer not started",
            initial_s=0.2,
            max_s=CONNECT_RETRY_MAX_S,
        ):
            with attempt:
                # A fresh client per attempt: one whose start failed is not started again.
                producer = idempotent_producer(
                    settings.kafka_bootstrap_servers,
                    request_timeout_ms=settings.kafka_request_timeout_ms,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
        return producer

    def _start_consumers(self, producer: AIOKafkaProducer) -> None:
        settings = self.settings
        for spec in self._consumer_specs:
            consumer = EventConsumer(
                database=self.database,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                group_id=spec.group_id,
                topics=[t.name for t in spec.topics],
                handlers=spec.handlers,
                dead_letter_topic=self.dead_letter_topic.name,
                producer=producer,
                batch_size=settings.consumer_batch_size,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff_s=settings.consumer_retry_backoff_s,
                session_timeout_ms=settings.consumer_session_timeout_ms,
                apply_batch_at_once=spec.apply_batch_at_once,
                preload=spec.preload,
                wants=spec.wants,
                fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
                fetch_min_bytes=settings.consumer_fetch_min_bytes,
                commit_interval_s=settings.consumer_commit_interval_ms / 1000,
            )
            self.consumers.append(consumer)
            self._tasks.append(_supervised(f"consumer-{spec.group_id}", consumer.run))

    async def stop(self) -> None:
        """Clean whether or not Kafka ever came up: the connection attempt is abandoned
        first (it holds nothing to finish), then the loops stop, then the clients close."""
        if self._connector is not None:
            self._connector.cancel()
            await asyncio.gather(self._connector, return_exceptions=True)
        self.probe.stop()
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
            try:
                await asyncio.wait_for(self.producer.stop(), timeout=PRODUCER_CLOSE_TIMEOUT_S)
            except TimeoutError:
                log.warning("kafka producer not flushed on stop; its records are sent again")
        await self.database.dispose()
        log.info("service stopped")

    async def readiness(self) -> dict[str, str]:
        """What the process needs to answer requests: the database. Not the broker (see
        the module's docstring): that is :meth:`informational`."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.database.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        return checks

    def informational(self) -> dict[str, str]:
        """Reported beside readiness, never part of it: the broker as last measured."""
        return {"kafka": self.probe.kafka}


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

    @router.get("/readyz", summary="The database is reachable (the broker: informational)")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {
                "status": "ready" if ready else "unavailable",
                "checks": checks,
                # Not part of the status: events wait in the outbox while the broker is away.
                "informational": runtime.informational(),
            },
            status_code=200 if ready else 503,
        )

    @router.get("/healthz/kafka", summary="The broker answers this process (informational)")
    async def kafka_health() -> JSONResponse:
        status = await runtime.probe.check_kafka()
        return JSONResponse({"kafka": status}, status_code=200 if status == "ok" else 503)

    @router.get("/.well-known/jwks.json", summary="The public key this service signs with")
    async def published_keys() -> dict[str, Any]:
        return jwks([runtime.signing_key] if runtime.signing_key else [])

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
    app.include_router(audit_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime
