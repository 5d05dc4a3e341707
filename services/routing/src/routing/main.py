"""Routing's app factory: ``uvicorn --factory routing.main:create_app``."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_runtime.service import build_app
from fastapi import FastAPI

from routing import messaging
from routing.bootstrap import MIGRATIONS, build_runtime
from routing.canned_replies.api import admin_router as canned_replies_admin_router
from routing.canned_replies.api import router as canned_replies_router
from routing.casefile.api import router as casefile_router
from routing.cases.api import router as cases_router
from routing.cases.api import transfer_router
from routing.categories.api import router as categories_router
from routing.config import RoutingSettings
from routing.contacts.api import router as contacts_router
from routing.duplicates.api import router as duplicates_router
from routing.staffing.api import admin_router
from routing.staffing.api import router as staffing_router
from routing.tasks.api import router as tasks_router

__all__ = ["MIGRATIONS", "create_app"]


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    runtime, deps = build_runtime(settings)
    # One consumer over all four topics: one group member, one batch transaction at a time
    # (of notify's, only the report that no channel reaches a customer matters to routing).
    runtime.consume(
        topics=[topics.INTAKE, topics.FEEDBACK, topics.SLA, topics.NOTIFY],
        handlers=messaging.handlers(deps),
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    app = build_app(
        runtime=runtime,
        title="Complaint routing",
        description=(
            "Classifies, prioritises and assigns complaints; owns the case state machine, "
            "the case file, internal notes, tasks (reviews, follow-up calls, unreachable "
            "customers) and canned replies."
        ),
        routers=[
            casefile_router,
            cases_router,
            staffing_router,
            transfer_router,
            admin_router,
            categories_router,
            tasks_router,
            canned_replies_router,
            canned_replies_admin_router,
            duplicates_router,
            contacts_router,
        ],
    )
    app.state.dependencies = deps
    return app
