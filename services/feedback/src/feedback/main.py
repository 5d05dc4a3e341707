"""Feedback's app factory: ``uvicorn --factory feedback.main:create_app``."""

from __future__ import annotations

import secrets
from pathlib import Path

import structlog
from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from feedback import messaging
from feedback.api.internal import router as internal_router
from feedback.api.surveys import router as surveys_router
from feedback.autoclose import AutoCloser
from feedback.config import FeedbackSettings

MIGRATIONS = Path(__file__).parent / "migrations"

log = structlog.get_logger(__name__)


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    policy = settings.policy()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.FEEDBACK])
    runtime.consume(topics=[topics.INTAKE, topics.ROUTING], handlers=messaging.handlers(policy))
    closer = AutoCloser(
        database=runtime.database,
        policy=policy,
        tick_s=settings.feedback_tick_s,
        batch_size=settings.feedback_auto_close_batch,
    )
    runtime.run_in_background("feedback-auto-close", closer.run, stop=closer.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint feedback",
        description=(
            "Asks customers to confirm a resolution and rate it through a signed single-use "
            "link; turns the answer (or the silence) into confirmed, reopened or auto_closed."
        ),
        routers=[surveys_router, internal_router],
    )
    app.state.settings = settings
    app.state.link_secret = settings.feedback_link_secret or _development_secret()
    return app


def _development_secret() -> str:
    log.warning(
        "FEEDBACK_LINK_SECRET is not set: survey links are signed with a random per-process "
        "key and stop working when the process restarts"
    )
    return secrets.token_urlsafe(32)
