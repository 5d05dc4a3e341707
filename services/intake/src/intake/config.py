"""Intake's settings: the shared ones plus its secrets and limits (environment variables)."""

from __future__ import annotations

from typing import Annotated, Any

from complaint_customer_web.times import is_zone_name
from complaint_runtime.settings import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import NoDecode


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    database_url: str = "sqlite+aiosqlite:///./.run/intake.db"
    contact_encryption_key: str = Field(
        "",
        description=(
            "Fernet keys encrypting raw contacts at rest (intake-admin generate-keys), "
            "comma-separated, the current first: the first encrypts, all decrypt (rotation: "
            "NEW,OLD, then intake-admin rotate-contact-key, then NEW alone)"
        ),
    )
    customer_ref_key: str = Field(
        "",
        description=(
            "HMAC key for customer references (intake-admin generate-keys); at least 32 "
            "bytes, else intake refuses to start"
        ),
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8001", description="Base of tracking links given to customers"
    )
    api_key_cache_s: float = Field(30.0, description="How long a verified API key is cached")
    shared_customer_id_front_ends: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description=(
            "SHARED_CUSTOMER_ID_FRONT_ENDS: comma-separated front ends whose customer ids are "
            "one namespace (e.g. web-shop,app sharing one CRM): the same id is the same "
            "customer across them. Default none: every other front end's ids are its own "
            "(two CRMs' cust-1001 are two customers); phones and e-mails are always shared"
        ),
    )
    max_metadata_entries: int = 50
    idempotency_key_retention_h: float = Field(
        168.0,
        ge=24,
        le=24 * 365,
        description=(
            "IDEMPOTENCY_KEY_RETENTION_H: how long an Idempotency-Key (and a page's "
            "submission key) replays its first answer; older answers are pruned "
            "(intake/complaints/pruning.py) and the key is then new"
        ),
    )
    group_commit_max: int = Field(
        256, ge=1, le=10_000, description="Most concurrent complaints written in one transaction"
    )
    intake_shed_after_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description=(
            "INTAKE_SHED_AFTER_S: new complaints are refused with 503 and Retry-After while the "
            "oldest one still being accepted has waited longer than this (overload: the "
            "answers' latency stays bounded instead of queues growing); 0 = only the count "
            "limit"
        ),
    )
    intake_max_in_flight: int = Field(
        1024, ge=1, le=100_000, description="Most complaints being accepted at once (then 503)"
    )
    reference_block_size: int = Field(
        50, ge=1, le=10_000, description="Reference numbers a process reserves at a time"
    )
    reopen_window_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description=(
            "REOPEN_WINDOW_DAYS: a customer message on a complaint closed at most this many "
            "days ago (elapsed time, the end included) reopens it; a later one opens a new "
            "complaint linked to it (§3). Fractions are allowed (tests use seconds)"
        ),
    )
    retention_days: float = Field(
        1095,
        gt=0,
        le=36_500,
        description=(
            "RETENTION_DAYS: the personal data of a complaint closed longer ago than this "
            "(1095 = three years, §10) is anonymised by the retention job (an erasure with "
            "reason retention_expired that every service honours); a legal hold suspends it"
        ),
    )
    retention_interval_s: float = Field(
        3600.0, gt=0, description="How often the retention job looks for complaints due"
    )
    retention_batch_size: int = Field(
        100, ge=1, le=10_000, description="Complaints the retention job anonymises per transaction"
    )
    organisation_timezone: str = Field(
        "Asia/Shanghai",
        description=(
            "ORGANISATION_TIMEZONE: the IANA zone the tracking page shows times in when a "
            "complaint names none of its own (the front end's optional `timezone`)"
        ),
    )
    tracking_cookie_max_age_s: int = Field(
        30 * 86_400,
        ge=60,
        description=(
            "How long the tracking page's cookie (the link's secret, set by /t/<token>) is "
            "kept by the customer's browser; the link itself keeps working until rotated"
        ),
    )
    rate_limit_storage_uri: str = Field(
        "async+memory://",
        description=(
            "Where the public pages' rate limits count (the `limits` library's storage). "
            "Memory counts per process, so each replica allows the limits on its own; "
            "async+redis://host:6379 shares them"
        ),
    )
    tracking_rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'TRACKING_RATE_LIMITS: overrides of the public pages\' limits, e.g. {"message.link": '
            '"10/hour"} (keys: <action>.<link|client>, actions open, view, message, withdraw, '
            "rotate, recover (lost-link codes asked for, per reference), verify (codes "
            "entered, per browser); see intake.pages.domain.throttling)"
        ),
    )

    @field_validator("shared_customer_id_front_ends", mode="before")
    @classmethod
    def _split_front_ends(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("organisation_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_zone_name(value):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Asia/Shanghai")
        return value
