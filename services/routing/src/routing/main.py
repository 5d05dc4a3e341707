"""Routing's app factory: ``uvicorn --factory routing.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from routing import duplicates, messaging, streaks, triage_classifiers
from routing.agents import seed_agents
from routing.api.admin_teams import router as admin_router
from routing.api.cases import router as cases_router
from routing.api.categories import router as categories_router
from routing.api.queues import router as queues_router
from routing.api.supervision import router as supervision_router
from routing.config import RoutingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    duplicates.configure(
        duplicates.policy_from_settings(
            window_h=settings.duplicate_window_h,
            text_similarity=settings.duplicate_text_similarity,
            repeat_window_days=settings.repeat_window_days,
        )
    )
    streaks.configure(length=settings.emotion_streak_length)
    triage_classifiers.configure(settings)  # fails here if the configured model is missing
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.ROUTING])
    # One consumer over all three topics: one group member, one batch transaction at a time.
    runtime.consume(
        topics=[topics.INTAKE, topics.FEEDBACK, topics.SLA], handlers=messaging.HANDLERS
    )

    async def seed() -> None:
        await seed_agents(database=runtime.database, agents=settings.routing_agents)

    runtime.on_migrated.append(seed)

    async def warm_up_triage() -> None:
        await triage_classifiers.warm_up(runtime.database)

    runtime.on_migrated.append(warm_up_triage)
    app = build_app(
        runtime=runtime,
        title="Complaint routing",
        description=(
            "Classifies, prioritises and assigns complaints; owns the case state machine."
        ),
        routers=[cases_router, supervision_router, queues_router, admin_router, categories_router],
    )
    app.state.settings = settings
    return app
