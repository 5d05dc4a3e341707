"""sla-watch's app factory: ``uvicorn --factory sla_watch.main:create_app``."""

from __future__ import annotations

from pathlib import Path

from complaint_contracts import topics
from complaint_runtime.service import ServiceRuntime, build_app
from fastapi import FastAPI

from sla_watch import messaging
from sla_watch.api import calendar_days, calendars, policies, recomputations
from sla_watch.api.clocks import router as clocks_router
from sla_watch.config import SlaSettings
from sla_watch.firing import FireLoop
from sla_watch.recompute import RecomputeLoop
from sla_watch.service import SlaRules
from sla_watch.setup_cache import DatabaseSetup, apply_target_overrides

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    setup = DatabaseSetup()
    rules = SlaRules.from_settings(settings, setup=setup)
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.SLA])
    # Routing's transitions drive the clocks; intake's customer messages start
    # next-response clocks.
    # Its handlers only write sla-watch's tables: a poll is applied in one go (a savepoint
    # per record only when that fails), which is what arming a triaged backlog is bound by.
    runtime.consume(
        topics=[topics.ROUTING, topics.INTAKE],
        handlers=messaging.handlers(rules),
        apply_batch_at_once=True,
    )
    loop = FireLoop(
        database=runtime.database,
        rules=rules,
        tick_s=settings.sla_tick_s,
        batch=settings.sla_fire_batch,
        metrics_refresh_s=settings.sla_metrics_refresh_s,
    )
    runtime.run_in_background("sla-fire", loop.run, stop=loop.stop)

    async def override_targets() -> None:
        await apply_target_overrides(
            runtime.database,
            first_response=settings.sla_first_response_targets_s,
            resolution=settings.sla_resolution_targets_s,
        )

    runtime.on_migrated.append(override_targets)
    recompute = RecomputeLoop(
        database=runtime.database,
        rules=rules,
        tick_s=settings.sla_recompute_tick_s,
        batch=settings.sla_recompute_batch,
    )
    runtime.run_in_background("sla-recompute", recompute.run, stop=recompute.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint SLA watch",
        description="Runs the SLA clocks of complaints; sends warnings and breaches.",
        routers=[
            clocks_router,
            calendars.router,
            calendar_days.router,
            policies.router,
            recomputations.router,
        ],
    )
    app.state.settings = settings
    app.state.sla_setup = setup  # the admin API's business-time preview uses its cache
    app.state.sla_rules = rules  # the read API counts business time with the same calendars
    return app
