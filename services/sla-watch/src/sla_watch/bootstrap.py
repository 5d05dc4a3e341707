"""sla-watch's composition root: everything the routers, the consumer's handlers and the
background loops use, built once from the settings into one frozen :class:`Dependencies`.

Routers take it as :data:`DependenciesDep` (the one place reading ``app.state``); the
handler table gets its clock settings (:func:`sla_watch.messaging.handlers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from complaint_contracts import topics
from complaint_runtime.auth import Principal, require_roles
from complaint_runtime.database import Database
from complaint_runtime.service import ServiceRuntime
from fastapi import Depends, Request

from sla_watch.clocks.settings import ClockSettings
from sla_watch.config import SlaSettings
from sla_watch.firing.loop import FireLoop
from sla_watch.policies.terms_source import StoredTerms
from sla_watch.recompute.loop import RecomputeLoop

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Dependencies:
    settings: SlaSettings
    runtime: ServiceRuntime
    # Policies and calendars as stored, cached per config version: new clocks' terms, every
    # clock's calendar (firing, read API) and the admin API's business-time preview.
    terms: StoredTerms
    clock_settings: ClockSettings
    fire_loop: FireLoop
    recompute_loop: RecomputeLoop

    @property
    def database(self) -> Database:
        return self.runtime.database


def build_dependencies(settings: SlaSettings) -> Dependencies:
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.SLA])
    terms = StoredTerms()
    clock_settings = ClockSettings(
        terms=terms,
        warning_percents=settings.sla_warning_percents,
        late_after_s=settings.sla_late_after_s,
    )
    return Dependencies(
        settings=settings,
        runtime=runtime,
        terms=terms,
        clock_settings=clock_settings,
        fire_loop=FireLoop(
            database=runtime.database,
            settings=clock_settings,
            tick_s=settings.sla_tick_s,
            batch=settings.sla_fire_batch,
            metrics_refresh_s=settings.sla_metrics_refresh_s,
        ),
        recompute_loop=RecomputeLoop(
            database=runtime.database,
            settings=clock_settings,
            tick_s=settings.sla_recompute_tick_s,
            batch=settings.sla_recompute_batch,
        ),
    )


def dependencies(request: Request) -> Dependencies:
    found: Dependencies = request.app.state.dependencies
    return found


async def _dependency(request: Request) -> Dependencies:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a thread
    # hop on every request.
    return dependencies(request)


DependenciesDep = Annotated[Dependencies, Depends(_dependency)]
# The admin API's roles: leads and managers read, admins change.
AdminReader = Annotated[Principal, Depends(require_roles("lead", "manager", "admin"))]
AdminWriter = Annotated[Principal, Depends(require_roles("admin"))]
