"""Feedback's app factory: ``uvicorn --factory feedback.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_customer_web.assets import asset_routes
from complaint_customer_web.logredact import install_redaction
from complaint_customer_web.security import SecurityHeadersMiddleware
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI
from starlette.middleware import Middleware

from feedback import messaging
from feedback.api.internal import router as internal_router
from feedback.api.surveys import router as surveys_router
from feedback.bootstrap import build_dependencies
from feedback.config import FeedbackSettings
from feedback.domain.links import redact_link_paths
from feedback.nps.api import router as nps_pages_router
from feedback.nps.internal_api import router as nps_internal_router
from feedback.pages.errors import UnexpectedErrorPage, install_page_errors
from feedback.surveys.api import router as survey_pages_router

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.FEEDBACK])
    app = build_app(
        runtime=runtime,
        title="Complaint feedback",
        description=(
            "Asks customers to confirm a resolution and rate it through a signed single-use "
            "link (a page, or JSON for front ends); turns the answer (or the silence) into "
            "confirmed, reopened or auto_closed; runs the NPS programme."
        ),
        routers=[
            surveys_router,
            internal_router,
            nps_internal_router,
            survey_pages_router,
            nps_pages_router,
        ],
    )
    # After build_app, which configures logging: building may warn (no link secret).
    dependencies = build_dependencies(settings, runtime.database)
    runtime.consume(
        topics=[topics.INTAKE, topics.ROUTING, topics.NOTIFY],
        handlers=messaging.handlers(dependencies),
        apply_batch_at_once=True,
    )
    closer = dependencies.auto_closer
    runtime.run_in_background("feedback-auto-close", closer.run, stop=closer.stop)
    nps = dependencies.nps_loop
    runtime.run_in_background("feedback-nps", nps.run, stop=nps.stop)
    # The pages: their CSS and script, HTML errors, security headers, and the link's
    # secret kept out of every log line.
    app.router.routes.extend(asset_routes(dict(dependencies.web.assets)))
    install_page_errors(app)
    app.user_middleware.append(Middleware(UnexpectedErrorPage))  # innermost
    app.add_middleware(SecurityHeadersMiddleware)
    install_redaction(redact_link_paths)
    app.state.dependencies = dependencies
    return app
