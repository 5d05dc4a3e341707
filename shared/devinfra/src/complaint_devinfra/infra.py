"""One object that provides Kafka and PostgreSQL to tests and tools.

Each server is started lazily, on first use, unless the environment names an
existing one:

* ``KAFKA_BOOTSTRAP_SERVERS=host:port[,...]`` -> use it, start no broker;
* ``PLATFORM_POSTGRES_URL=postgresql://user:pw@host:port`` -> use it, start no
  PostgreSQL (``create_database`` then creates databases on that server).

Testcontainers (``PLATFORM_USE_TESTCONTAINERS=1``) is not implemented: local
processes need no Docker engine, which CI machines do not have.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from types import TracebackType

from complaint_devinfra.kafka import KafkaEndpoint, LocalKafka
from complaint_devinfra.postgres import LocalPostgres, PostgresEndpoint

ENV_KAFKA = "KAFKA_BOOTSTRAP_SERVERS"
ENV_POSTGRES = "PLATFORM_POSTGRES_URL"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Infrastructure:
    """Kafka and PostgreSQL for one test session (or one script run).

    Use as a context manager, or call :meth:`start` / :meth:`stop`. Whatever
    it started is stopped and deleted by :meth:`stop`, by ``atexit`` if
    :meth:`stop` never ran, and by the process-group watchdog in ``_proc``
    if this process is killed outright.
    """

    def __init__(
        self,
        *,
        kafka: bool = True,
        postgres: bool = True,
        postgres_fsync: bool = True,
        verbose: bool = True,
    ) -> None:
        self._want_kafka = kafka
        self._want_postgres = postgres
        self._postgres_fsync = postgres_fsync
        self._verbose = verbose
        self._kafka: KafkaEndpoint | None = None
        self._postgres: PostgresEndpoint | None = None
        self._lock = threading.Lock()
        self._atexit_registered = False

    # ------------------------------------------------------------------ lazy endpoints

    @property
    def kafka(self) -> KafkaEndpoint:
        """The broker, started on first access (or the external one)."""
        with self._lock:
            if self._kafka is None:
                if not self._want_kafka:
                    raise RuntimeError("this Infrastructure was created with kafka=False")
                self._kafka = self._make_kafka()
            return self._kafka

    @property
    def postgres(self) -> PostgresEndpoint:
        """The PostgreSQL server, started on first access (or the external one)."""
        with self._lock:
            if self._postgres is None:
                if not self._want_postgres:
                    raise RuntimeError("this Infrastructure was created with postgres=False")
                self._postgres = self._make_postgres()
            return self._postgres

    @property
    def started_kafka(self) -> KafkaEndpoint | None:
        """The broker if it was already needed; never starts one."""
        return self._kafka

    @property
    def started_postgres(self) -> PostgresEndpoint | None:
        return self._postgres

    def _make_kafka(self) -> KafkaEndpoint:
        external = os.environ.get(ENV_KAFKA, "").strip()
        if external:
            self._note(f"using external Kafka at {external} ({ENV_KAFKA})")
            return KafkaEndpoint(external)
        kafka = LocalKafka()
        self._register_atexit()
        self._note(f"starting Kafka {kafka.version} ...")
        try:
            kafka.start()
        except BaseException:
            kafka.destroy()
            raise
        self._note(
            f"Kafka {kafka.version} ready on {kafka.bootstrap_servers} "
            f"in {kafka.last_startup_seconds:.1f} s (log: {kafka.log_path})"
        )
        return kafka

    def _make_postgres(self) -> PostgresEndpoint:
        external = os.environ.get(ENV_POSTGRES, "").strip()
        if external:
            self._note(f"using external PostgreSQL from {ENV_POSTGRES}")
            return PostgresEndpoint(external)
        postgres = LocalPostgres(fsync=self._postgres_fsync)
        self._register_atexit()
        self._note("starting PostgreSQL ...")
        try:
            postgres.start()
        except BaseException:
            postgres.destroy()
            raise
        self._note(
            f"PostgreSQL ready on 127.0.0.1:{postgres.port} "
            f"in {postgres.last_startup_seconds:.1f} s (log: {postgres.log_path})"
        )
        return postgres

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Infrastructure:
        """Start every enabled server now instead of on first use."""
        if self._want_kafka:
            _ = self.kafka
        if self._want_postgres:
            _ = self.postgres
        return self

    def stop(self) -> None:
        """Stop and delete everything this object started; safe to call twice."""
        with self._lock:
            kafka, self._kafka = self._kafka, None
            postgres, self._postgres = self._postgres, None
        errors: list[BaseException] = []
        for endpoint in (kafka, postgres):
            if endpoint is None:
                continue
            try:
                endpoint.destroy()
            except Exception as exc:  # stop the other one regardless
                errors.append(exc)
        if self._atexit_registered:
            atexit.unregister(self.stop)
            self._atexit_registered = False
        if errors:
            raise errors[0]

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True

    def _note(self, message: str) -> None:
        if self._verbose:
            _log(message)

    def __enter__(self) -> Infrastructure:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
