"""Intake's app factory: ``uvicorn --factory intake.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from intake import messaging, service
from intake.api.auth import ApiKeyCache
from intake.api.complaints import router as complaints_router
from intake.api.internal import router as internal_router
from intake.config import IntakeSettings
from intake.group_commit import GroupCommitter
from intake.references import ReferenceAllocator

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.INTAKE])
    runtime.consume(topics=messaging.PROJECTED_TOPICS, handlers=messaging.HANDLERS)
    app = build_app(
        runtime=runtime,
        title="Complaint intake",
        description="Front ends post complaints here; customers track them with their token.",
        routers=[complaints_router, internal_router],
    )
    app.state.settings = settings
    app.state.secrets = service.Secrets.from_settings(
        contact_encryption_key=settings.contact_encryption_key,
        customer_ref_key=settings.customer_ref_key,
    )
    app.state.api_key_cache = ApiKeyCache(settings.api_key_cache_s)
    app.state.writer = GroupCommitter(runtime.database, max_batch=settings.group_commit_max)
    app.state.references = ReferenceAllocator(
        runtime.database, block_size=settings.reference_block_size
    )
    return app
