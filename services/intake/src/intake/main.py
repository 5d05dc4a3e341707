"""Intake's app factory: ``uvicorn --factory intake.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_customer_web.assets import asset_routes
from complaint_customer_web.logredact import install_redaction
from complaint_customer_web.security import SecurityHeadersMiddleware
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI
from starlette.middleware import Middleware

from intake import messaging
from intake.bootstrap import build_dependencies
from intake.complaints import api as complaints_api
from intake.complaints.domain.tracking import redact_link_paths
from intake.config import IntakeSettings
from intake.erasure import api as erasure_api
from intake.pages import api as pages_api
from intake.pages import recovery_api as recovery_pages_api
from intake.pages.errors import UnexpectedErrorPage, install_page_errors
from intake.projection import api as projection_api
from intake.recovery import api as recovery_api
from intake.rights import api as rights_api

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.INTAKE])
    dependencies = build_dependencies(settings, runtime.database)
    runtime.on_stopping.append(dependencies.writer.aclose)
    pruner = dependencies.idempotency_pruner
    runtime.run_in_background("prune-idempotency-keys", pruner.run, stop=pruner.stop)
    retention = dependencies.retention
    runtime.run_in_background("intake-retention", retention.run, stop=retention.stop)
    runtime.consume(
        topics=messaging.PROJECTED_TOPICS,
        handlers=messaging.handlers(),
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    app = build_app(
        runtime=runtime,
        title="Complaint intake",
        description="Front ends post complaints here; customers track them with their link.",
        routers=[
            complaints_api.router,
            projection_api.router,
            complaints_api.internal_router,
            erasure_api.router,
            rights_api.router,
            recovery_api.internal_router,
            pages_api.router,
            recovery_pages_api.router,
        ],
    )
    # The tracking page: its CSS and script, HTML errors, and the customer's link secret
    # kept out of every log line (build_app configured logging just now).
    app.router.routes.extend(asset_routes(dict(dependencies.web.assets)))
    install_page_errors(app)
    app.user_middleware.append(Middleware(UnexpectedErrorPage))  # innermost
    app.add_middleware(SecurityHeadersMiddleware)
    install_redaction(redact_link_paths)
    app.state.dependencies = dependencies
    return app
