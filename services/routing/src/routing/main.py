"""Routing's app factory: ``uvicorn --factory routing.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from routing import messaging
from routing.agents import seed_agents
from routing.api.cases import router as cases_router
from routing.config import RoutingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.ROUTING])
    # One consumer over both topics: one group member, one batch transaction at a time.
    runtime.consume(topics=[topics.INTAKE, topics.FEEDBACK], handlers=messaging.HANDLERS)

    async def seed() -> None:
        await seed_agents(database=runtime.database, agents=settings.routing_agents)

    runtime.on_migrated.append(seed)
    app = build_app(
        runtime=runtime,
        title="Complaint routing",
        description=(
            "Classifies, prioritises and assigns complaints; owns the case state machine."
        ),
        routers=[cases_router],
    )
    app.state.settings = settings
    return app
