"""sla-watch's app factory: ``uvicorn --factory sla_watch.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from sla_watch import messaging
from sla_watch.api.clocks import router as clocks_router
from sla_watch.config import SlaSettings
from sla_watch.firing import FireLoop
from sla_watch.service import SlaRules

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    rules = SlaRules.from_settings(settings)
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.SLA])
    runtime.consume(topics=[topics.ROUTING], handlers=messaging.handlers(rules))
    loop = FireLoop(
        database=runtime.database,
        rules=rules,
        tick_s=settings.sla_tick_s,
        batch=settings.sla_fire_batch,
        metrics_refresh_s=settings.sla_metrics_refresh_s,
    )
    runtime.run_in_background("sla-fire", loop.run, stop=loop.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint SLA watch",
        description="Runs the SLA clocks of complaints; sends warnings and breaches.",
        routers=[clocks_router],
    )
    app.state.settings = settings
    return app
