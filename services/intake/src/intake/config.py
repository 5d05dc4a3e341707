"""Intake's settings: the shared ones plus its secrets and limits (environment variables)."""

from __future__ import annotations

from complaint_runtime.settings import ServiceSettings
from pydantic import Field


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    database_url: str = "sqlite+aiosqlite:///./.run/intake.db"
    contact_encryption_key: str = Field(
        "",
        description="Fernet key encrypting raw contacts at rest (intake-admin generate-keys)",
    )
    customer_ref_key: str = Field(
        "",
        description="HMAC key for customer references (intake-admin generate-keys)",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8001", description="Base of tracking links given to customers"
    )
    api_key_cache_s: float = Field(30.0, description="How long a verified API key is cached")
    max_metadata_entries: int = 50
    group_commit_max: int = Field(
        256, ge=1, le=10_000, description="Most concurrent complaints written in one transaction"
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
