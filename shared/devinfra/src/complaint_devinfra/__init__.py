"""Real Apache Kafka (KRaft) and PostgreSQL as local processes, for tests and ``make up``.

* :class:`LocalKafka` / :class:`KafkaEndpoint` -- a broker we run / one we are given;
* :class:`LocalPostgres` / :class:`PostgresEndpoint` -- the same for PostgreSQL;
* :class:`Infrastructure` -- both, lazily, honouring ``KAFKA_BOOTSTRAP_SERVERS`` and
  ``PLATFORM_POSTGRES_URL``;
* pytest fixtures ``local_kafka``, ``local_postgres``, ``platform_infra``
  (plugin ``complaint_devinfra.pytest_plugin``, auto-registered);
* CLI ``platform-infra up|down|status|fetch``.
"""

from complaint_devinfra.infra import Infrastructure
from complaint_devinfra.kafka import KafkaEndpoint, KafkaError, LocalKafka
from complaint_devinfra.kafka_fetch import KAFKA_VERSION, ensure_kafka_libs
from complaint_devinfra.postgres import (
    LocalPostgres,
    PostgresEndpoint,
    PostgresError,
    PostgresSetupError,
)

__all__ = [
    "KAFKA_VERSION",
    "Infrastructure",
    "KafkaEndpoint",
    "KafkaError",
    "LocalKafka",
    "LocalPostgres",
    "PostgresEndpoint",
    "PostgresError",
    "PostgresSetupError",
    "ensure_kafka_libs",
]
