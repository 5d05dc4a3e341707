"""pytest plugin (entry point ``pytest11``): real Kafka and PostgreSQL for a test session.

Fixtures (all session-scoped and synchronous, so they work with any event
loop scope):

* ``platform_infra`` -- the :class:`~complaint_devinfra.infra.Infrastructure`;
* ``local_kafka`` -- a started :class:`LocalKafka`, or a :class:`KafkaEndpoint`
  when ``KAFKA_BOOTSTRAP_SERVERS`` is set;
* ``local_postgres`` -- a started :class:`LocalPostgres`, or a
  :class:`PostgresEndpoint` when ``PLATFORM_POSTGRES_URL`` is set.

Servers start only when a test needs them and stop at session end. When a
test that used them fails, the tails of the broker and server logs are
attached to its report.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from complaint_devinfra.infra import Infrastructure
from complaint_devinfra.kafka import KafkaEndpoint
from complaint_devinfra.postgres import PostgresEndpoint

_LOG_LINES = 60


@pytest.fixture(scope="session")
def platform_infra() -> Iterator[Infrastructure]:
    infra = Infrastructure()
    try:
        yield infra
    finally:
        infra.stop()


@pytest.fixture(scope="session")
def local_kafka(platform_infra: Infrastructure) -> KafkaEndpoint:
    return platform_infra.kafka


@pytest.fixture(scope="session")
def local_postgres(platform_infra: Infrastructure) -> PostgresEndpoint:
    return platform_infra.postgres


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
    call: pytest.CallInfo[None],  # noqa: ARG001 (pytest passes hook arguments by name)
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    kafka = funcargs.get("local_kafka")
    if isinstance(kafka, KafkaEndpoint) and kafka.log_path is not None:
        report.sections.append(
            (
                f"Kafka broker log (last {_LOG_LINES} lines of {kafka.log_path})",
                kafka.log_tail(_LOG_LINES),
            )
        )
    postgres = funcargs.get("local_postgres")
    if isinstance(postgres, PostgresEndpoint) and postgres.log_path is not None:
        report.sections.append(
            (
                f"PostgreSQL log (last {_LOG_LINES} lines of {postgres.log_path})",
                postgres.log_tail(_LOG_LINES),
            )
        )
