"""The settings every service shares; each service subclasses it with its own prefix.

Every value has a documented default so that a service starts with no configuration on a
laptop; production overrides them with environment variables.
"""

from __future__ import annotations

from complaint_contracts.topics import DEAD_LETTER_RETENTION_MS, EVENT_RETENTION_MS
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from complaint_runtime.identity import ISSUER, SERVICE_TOKEN_TTL_S
from complaint_runtime.signing_keys import SigningKey, TrustedKeys

_DAY_MS = 24 * 3600 * 1000
# Kafka deletes a whole segment once its newest record is past retention, and the broker
# rolls a segment every week by default (log.roll.hours = 168).
_SEGMENT_ROLL_MS = 7 * _DAY_MS


class ServiceSettings(BaseSettings):
    """Environment variables read by every service (no prefix: shared by all services)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = Field("service", description="Used as ce_source and in logs")
    database_url: str = Field(
        "sqlite+aiosqlite:///./service.db",
        description="SQLAlchemy async URL: postgresql+asyncpg://... or sqlite+aiosqlite:///...",
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated")
    log_level: str = "INFO"
    log_json: bool = Field(True, description="JSON lines (false: human-readable console)")
    migrate_on_start: bool = Field(True, description="Run Alembic migrations in the lifespan")
    max_body_bytes: int = Field(256 * 1024, description="Larger request bodies get 413")
    db_pool_size: int = 10
    db_statement_timeout_s: float = Field(10.0, description="Per-statement bound on requests")
    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = Field(
        0.5, description="How often the relay looks for rows committed by other processes"
    )
    consumer_batch_size: int = 500
    consumer_max_attempts: int = Field(
        3, description="Attempts of a failing record before it goes to the dead-letter topic"
    )
    consumer_retry_backoff_s: float = 0.2
    consumer_session_timeout_ms: int = Field(
        10000, description="How long a dead consumer keeps its partitions before a rebalance"
    )
    consumer_fetch_max_wait_ms: int = Field(
        500,
        ge=0,
        le=10_000,
        description=(
            "How long the broker may hold a fetch to gather CONSUMER_FETCH_MIN_BYTES. With "
            "the default 1 byte a record is fetched as soon as it is there; a larger minimum "
            "batches fetches under a trickle (fewer requests, transactions and offset "
            "commits) for up to this much more latency per hop, but an idle consumer then "
            "fetches every wait (measured: the broker's idle CPU 13 % at 500 ms, 29 % at 20 "
            "ms with five services)"
        ),
    )
    consumer_fetch_min_bytes: int = Field(
        1, ge=1, description="What a fetch gathers before the broker answers it early"
    )
    consumer_commit_interval_ms: int = Field(
        200,
        ge=0,
        le=60_000,
        description=(
            "How often, at most, a consumer commits its offsets while records keep coming "
            "(0: after every batch). Records applied since the last commit come again after "
            "a crash or rebalance and are skipped by event id; a trickle costs a Kafka "
            "request per batch in every consumer otherwise"
        ),
    )
    processed_event_retention_days: float = Field(
        30.0,
        ge=15,
        description=(
            "How long a consumer remembers an event id it applied (processed_events), so a "
            "redelivery is skipped. A record can come again while Kafka holds it: retention "
            "(KAFKA_EVENT_RETENTION_MS, 7 days) plus up to a segment's roll time (the "
            "broker's default, 7 days) before the segment is deleted, i.e. at most 14 days; "
            "hence at least 15 and 30 by default (complaint_runtime/pruning.py)"
        ),
    )
    prune_interval_s: float = Field(
        3600.0, gt=0, description="How often expired processed-event ids (and the like) go"
    )
    prune_batch_size: int = Field(
        5000, ge=1, le=100_000, description="Rows deleted per transaction by a pruning job"
    )
    kafka_request_timeout_ms: int = 15000
    kafka_event_retention_ms: int = Field(
        EVENT_RETENTION_MS,
        ge=3_600_000,
        description=(
            "retention.ms of the event topics (default 7 days): how long masked texts stay in "
            "Kafka. Set at start-up on topics that exist, so give every service the same value"
        ),
    )
    kafka_dead_letter_retention_ms: int = Field(
        DEAD_LETTER_RETENTION_MS,
        ge=3_600_000,
        description="retention.ms of the dead-letter topics (default 30 days)",
    )
    health_probe_interval_s: float = Field(
        10.0,
        gt=0,
        description="How often the broker's reachability and the outbox backlog are measured",
    )
    auth_issuer: str = Field(
        ISSUER, description="The iss of staff tokens (the platform's own issuers: console, make up)"
    )
    auth_jwks: str = Field(
        "",
        description=(
            "Public JSON Web Key Set this service trusts: staff issuers' keys and the keys of "
            "the services that call it (service:<name>). Public keys only"
        ),
    )
    auth_jwks_url: str = Field(
        "", description="An OpenID Connect provider's JWKS URL (staff tokens; fetched, cached)"
    )
    auth_provider_issuer: str = Field(
        "", description="The iss of the OpenID Connect provider's tokens (with AUTH_JWKS_URL)"
    )
    auth_audience: str = Field(
        "", description="The aud this service accepts (default: SERVICE_NAME)"
    )
    auth_leeway_s: int = Field(30, ge=0, le=300, description="Clock skew tolerated on exp/iat")
    auth_signing_key: str = Field(
        "",
        description=(
            "This service's own private key (a JWK, kid service:<name>) for its calls to other "
            "services; secret. Make one: "
            "python -m complaint_runtime.signing_keys new service:<name>"
        ),
    )
    auth_token_ttl_s: int = Field(
        SERVICE_TOKEN_TTL_S, ge=10, le=3600, description="Lifetime of the tokens this service signs"
    )
    retry_after_s: int = Field(5, description="Retry-After sent with 503 when a dependency is down")

    @field_validator("auth_jwks")
    @classmethod
    def _public_key_set(cls, value: str) -> str:
        TrustedKeys.parse(value)  # refused at start: malformed, or holding a private key
        return value

    @field_validator("auth_signing_key")
    @classmethod
    def _private_key(cls, value: str) -> str:
        if value:
            SigningKey.from_jwk(value)
        return value

    @property
    def audience(self) -> str:
        return self.auth_audience or self.service_name

    @model_validator(mode="after")
    def _ids_outlive_redeliveries(self) -> ServiceSettings:
        # A pruned id whose record Kafka still holds would be applied a second time.
        kept_ms = self.processed_event_retention_days * _DAY_MS
        if kept_ms <= self.kafka_event_retention_ms + _SEGMENT_ROLL_MS:
            raise ValueError(
                "PROCESSED_EVENT_RETENTION_DAYS must exceed KAFKA_EVENT_RETENTION_MS plus a "
                "week (a segment's roll time): a redelivered event would be applied again"
            )
        return self
