"""Notify's app factory: ``uvicorn --factory notify.main:create_app``."""

from __future__ import annotations

from complaint_runtime.service import build_app
from fastapi import FastAPI

from notify import messaging
from notify.bootstrap import MIGRATIONS, build_dependencies
from notify.config import NotifySettings
from notify.deliveries.api import router as deliveries_router

# MIGRATIONS: the deploy's migration job imports it from here.
__all__ = ["MIGRATIONS", "create_app"]


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    deps = build_dependencies(settings or NotifySettings())
    runtime = deps.runtime
    runtime.consume(
        topics=messaging.CONSUMED,
        handlers=messaging.handlers(deps),
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    loop = deps.delivery_loop
    runtime.run_in_background("delivery-loop", loop.run, stop=loop.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint notify",
        description=(
            "Sends acknowledgements, assignment notices, SLA warnings and breaches, "
            "resolution notices and survey invitations; keeps the delivery log."
        ),
        routers=[deliveries_router],
    )
    app.state.dependencies = deps
    return app
