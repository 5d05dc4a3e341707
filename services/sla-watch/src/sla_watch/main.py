"""sla-watch's app factory: ``uvicorn --factory sla_watch.main:create_app``."""

from __future__ import annotations

from complaint_contracts import topics
from complaint_runtime.service import build_app
from fastapi import FastAPI

from sla_watch import messaging
from sla_watch.bootstrap import MIGRATIONS, build_dependencies
from sla_watch.calendars import api as calendars_api
from sla_watch.clocks import api as clocks_api
from sla_watch.config import SlaSettings
from sla_watch.policies import api as policies_api
from sla_watch.policies.service import apply_target_overrides
from sla_watch.recompute import api as recompute_api

__all__ = ["MIGRATIONS", "create_app"]


def create_app(settings: SlaSettings | None = None) -> FastAPI:
    settings = settings or SlaSettings()
    deps = build_dependencies(settings)
    runtime = deps.runtime
    # Routing's transitions drive the clocks; intake's customer messages start
    # next-response clocks.
    # Its handlers only write sla-watch's tables: a poll is applied in one go (a savepoint
    # per record only when that fails), which is what arming a triaged backlog is bound by;
    # the clocks and rows its handlers lock are locked first, a statement per table.
    runtime.consume(
        topics=[topics.ROUTING, topics.INTAKE],
        handlers=messaging.handlers(deps.clock_settings),
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    runtime.run_in_background("sla-fire", deps.fire_loop.run, stop=deps.fire_loop.stop)

    async def override_targets() -> None:
        await apply_target_overrides(
            database=deps.database,
            first_response=settings.sla_first_response_targets_s,
            resolution=settings.sla_resolution_targets_s,
        )

    runtime.on_migrated.append(override_targets)
    runtime.run_in_background(
        "sla-recompute", deps.recompute_loop.run, stop=deps.recompute_loop.stop
    )
    app = build_app(
        runtime=runtime,
        title="Complaint SLA watch",
        description="Runs the SLA clocks of complaints; sends warnings and breaches.",
        routers=[
            clocks_api.router,
            calendars_api.router,
            policies_api.router,
            recompute_api.router,
        ],
    )
    app.state.dependencies = deps
    return app
