"""Intake's app factory: ``uvicorn --factory intake.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from intake import messaging
from intake.bootstrap import build_dependencies
from intake.complaints import api as complaints_api
from intake.config import IntakeSettings
from intake.projection import api as projection_api

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.INTAKE])
    dependencies = build_dependencies(settings, runtime.database)
    runtime.consume(topics=messaging.PROJECTED_TOPICS, handlers=messaging.handlers())
    app = build_app(
        runtime=runtime,
        title="Complaint intake",
        description="Front ends post complaints here; customers track them with their token.",
        routers=[complaints_api.router, projection_api.router, complaints_api.internal_router],
    )
    app.state.dependencies = dependencies
    return app
