"""Feedback's app factory: ``uvicorn --factory feedback.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from feedback import messaging
from feedback.api.internal import router as internal_router
from feedback.api.surveys import router as surveys_router
from feedback.bootstrap import build_dependencies
from feedback.config import FeedbackSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.FEEDBACK])
    app = build_app(
        runtime=runtime,
        title="Complaint feedback",
        description=(
            "Asks customers to confirm a resolution and rate it through a signed single-use "
            "link; turns the answer (or the silence) into confirmed, reopened or auto_closed."
        ),
        routers=[surveys_router, internal_router],
    )
    # After build_app, which configures logging: building may warn (no link secret).
    dependencies = build_dependencies(settings, runtime.database)
    runtime.consume(
        topics=[topics.INTAKE, topics.ROUTING, topics.NOTIFY],
        handlers=messaging.handlers(dependencies),
    )
    closer = dependencies.auto_closer
    runtime.run_in_background("feedback-auto-close", closer.run, stop=closer.stop)
    app.state.dependencies = dependencies
    return app
