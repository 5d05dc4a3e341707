"""Intake's composition root: everything the routers and consumers use, built once from the
settings. Routers take it with ``DependenciesDep``; nothing else reads ``app.state``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Final

from complaint_customer_web.assets import Asset, asset_urls, load_assets
from complaint_customer_web.catalog import Catalog
from complaint_customer_web.csrf import derive_key
from complaint_customer_web.rendering import CustomerPages
from complaint_customer_web.throttle import Throttle, parse_limit
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop
from fastapi import Depends, Request
from limits import RateLimitItem

from intake.access.service import ApiKeyCache
from intake.complaints.admission import Admission
from intake.complaints.domain.admission import AdmissionLimits
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.pruning import idempotency_keys_pruner
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.config import IntakeSettings
from intake.pages.domain.recovery_words import RECOVERY_WORDS
from intake.pages.domain.throttling import limits_with
from intake.pages.domain.words import WORDS
from intake.rights.retention import RetentionLoop

PAGE_TEMPLATES: Final = Path(__file__).resolve().parent / "pages" / "templates"


@dataclass(frozen=True)
class CustomerWeb:
    """What the customer's pages (tracking, lost link) need: templates and words, the CSS and
    script served, the rate limits (``throttle`` counts in the storage of
    RATE_LIMIT_STORAGE_URI: memory, per replica, by default) and the key of its CSRF
    tokens (derived from CUSTOMER_REF_KEY, so no new secret has to be deployed)."""

    pages: CustomerPages
    catalog: Catalog
    assets: Mapping[str, Asset]
    throttle: Throttle
    rate_limits: Mapping[str, RateLimitItem]
    csrf_key: bytes


def build_customer_web(settings: IntakeSettings) -> CustomerWeb:
    """Refuses to start (ValueError) with a rate limit it cannot parse or does not know."""
    assets = load_assets()
    return CustomerWeb(
        pages=CustomerPages([PAGE_TEMPLATES], assets=asset_urls(assets)),
        catalog=Catalog().with_messages(WORDS).with_messages(RECOVERY_WORDS),
        assets=assets,
        throttle=Throttle(settings.rate_limit_storage_uri),
        rate_limits={
            name: parse_limit(text)
            for name, text in limits_with(settings.tracking_rate_limits).items()
        },
        csrf_key=derive_key(settings.customer_ref_key.encode()),
    )


@dataclass(frozen=True)
class Dependencies:
    settings: IntakeSettings
    database: Database
    secrets: Secrets
    api_keys: ApiKeyCache
    writer: GroupCommitter
    admission: Admission
    references: ReferenceAllocator
    reopen_window: timedelta  # §3: a message this long after closure still reopens
    web: CustomerWeb
    idempotency_pruner: PeriodicLoop  # answers past IDEMPOTENCY_KEY_RETENTION_H go
    retention: RetentionLoop  # §10: anonymises complaints closed longer than RETENTION_DAYS


def build_dependencies(settings: IntakeSettings, database: Database) -> Dependencies:
    """Refuses to start (RuntimeError) without the two secret keys."""
    secrets_ = Secrets.from_settings(
        contact_encryption_key=settings.contact_encryption_key,
        customer_ref_key=settings.customer_ref_key,
    )
    return Dependencies(
        settings=settings,
        database=database,
        secrets=secrets_,
        api_keys=ApiKeyCache(settings.api_key_cache_s),
        writer=GroupCommitter(database, max_batch=settings.group_commit_max),
        admission=Admission(
            AdmissionLimits(
                max_in_flight=settings.intake_max_in_flight,
                shed_after_s=settings.intake_shed_after_s,
            )
        ),
        references=ReferenceAllocator(database, block_size=settings.reference_block_size),
        reopen_window=timedelta(days=settings.reopen_window_days),
        web=build_customer_web(settings),
        idempotency_pruner=idempotency_keys_pruner(database, settings),
        retention=RetentionLoop(
            database=database,
            secrets_=secrets_,
            period=timedelta(days=settings.retention_days),
            batch_size=settings.retention_batch_size,
            tick_s=settings.retention_interval_s,
        ),
    )


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.dependencies
    return deps


async def _dependency(request: Request) -> Dependencies:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a thread
    # hop on every request.
    return dependencies(request)


DependenciesDep = Annotated[Dependencies, Depends(_dependency)]
