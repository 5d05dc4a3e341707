"""Notify's app factory: ``uvicorn --factory notify.main:create_app``."""

from __future__ import annotations

from complaint_runtime.service import build_app
from fastapi import FastAPI

from notify import messaging
from notify.bootstrap import MIGRATIONS, build_dependencies
from notify.config import NotifySettings
from notify.deliveries.api import router as deliveries_router
from notify.replies.api import router as replies_router
from notify.sms.api import router as sms_router
from notify.suppressions.api import router as unsubscribe_router
from notify.templates_api.api import router as templates_router
from notify.webhooks.api import router as webhooks_router

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
        wants=messaging.wants(deps),
    )
    loop = deps.delivery_loop
    runtime.run_in_background("delivery-loop", loop.run, stop=loop.stop)
    if deps.webhooks is not None:
        dispatcher = deps.webhooks.dispatcher
        runtime.run_in_background("webhook-dispatcher", dispatcher.run, stop=dispatcher.stop)
    if deps.replies is not None:
        forwarder = deps.replies.forwarder
        runtime.run_in_background("reply-forwarder", forwarder.run, stop=forwarder.stop)
        if deps.replies.endpoint is not None:
            endpoint = deps.replies.endpoint
            runtime.run_in_background("reply-smtp", endpoint.run, stop=endpoint.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint notify",
        description=(
            "Sends acknowledgements, assignment notices, SLA warnings and breaches, "
            "resolution notices and survey invitations; keeps the delivery log."
        ),
        routers=[
            deliveries_router,
            sms_router,
            templates_router,
            webhooks_router,
            replies_router,
            unsubscribe_router,
        ],
    )
    app.state.dependencies = deps
    return app
