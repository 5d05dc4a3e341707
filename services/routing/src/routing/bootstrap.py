"""Routing's composition root: everything a request, a consumed event or a start-up hook
needs, built once from the settings into one frozen :class:`Dependencies`.

No module of routing keeps mutable state of its own: the duplicate policy, the streak
length and the triage classifiers travel in this object (routers get it through
``DependenciesDep``, consumer handlers through ``routing.messaging.handlers``). A missing
model file with ``TRIAGE_CLASSIFIER=model`` fails here, at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from complaint_contracts import topics
from complaint_runtime.database import Database
from complaint_runtime.identity import ServiceCaller
from complaint_runtime.service import ServiceRuntime
from fastapi import Depends, Request

from routing.adapters.intake_api import IntakeApi
from routing.config import RoutingSettings
from routing.duplicates.domain.detection import DuplicatePolicy
from routing.staffing.service import seed_agents
from routing.tasks.domain.follow_up import FollowUpWindow
from routing.triage.classifiers import TriageClassifiers, load_classifiers, warm_up

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Dependencies:
    settings: RoutingSettings
    database: Database
    duplicate_policy: DuplicatePolicy  # §4: duplicate window, text similarity, repeat window
    streak_length: int  # §4: irritation words in this many messages in a row turn blue yellow
    classifiers: TriageClassifiers  # the rules over the current category tree, or the model
    review_task_due: timedelta  # a reopen's review task falls due this long after it
    follow_up_window: FollowUpWindow  # a P1/P2 resolution's follow-up call: when, due when
    unreachable_task_due: timedelta  # the lead's task about an unreachable customer: due in
    intake: IntakeApi  # intake's internal API: a customer's raw contact, revealed to a lead


def duplicate_policy(settings: RoutingSettings) -> DuplicatePolicy:
    return DuplicatePolicy(
        window=timedelta(hours=settings.duplicate_window_h),
        text_similarity=settings.duplicate_text_similarity,
        repeat_window=timedelta(days=settings.repeat_window_days),
    )


def intake_api(settings: RoutingSettings, caller: ServiceCaller | None) -> IntakeApi:
    """The client of intake's internal API, calling as ``caller`` (None without
    ``AUTH_SIGNING_KEY``: a reveal then answers not-configured)."""
    return IntakeApi(
        base_url=settings.intake_internal_url,
        caller=caller,
        timeout_s=settings.internal_http_timeout_s,
    )


def build_dependencies(
    settings: RoutingSettings,
    *,
    database: Database,
    classifiers: TriageClassifiers | None = None,
    intake: IntakeApi | None = None,
    caller: ServiceCaller | None = None,
) -> Dependencies:
    """The dependencies over ``database``; ``classifiers`` default to what the settings
    ask for (raises ``RuntimeError`` when the configured model cannot be loaded), ``intake``
    to the client of ``INTAKE_INTERNAL_URL`` calling as ``caller`` (routing's identity from
    its ``AUTH_SIGNING_KEY``; tests give a client over a mock transport)."""
    return Dependencies(
        settings=settings,
        database=database,
        duplicate_policy=duplicate_policy(settings),
        streak_length=settings.emotion_streak_length,
        classifiers=classifiers or load_classifiers(settings),
        review_task_due=timedelta(hours=settings.review_task_due_h),
        follow_up_window=FollowUpWindow(
            after=timedelta(days=settings.follow_up_call_after_d),
            due=timedelta(days=settings.follow_up_call_due_d),
        ),
        unreachable_task_due=timedelta(hours=settings.unreachable_task_due_h),
        intake=intake or intake_api(settings, caller),
    )


def build_runtime(settings: RoutingSettings) -> tuple[ServiceRuntime, Dependencies]:
    """The service process: its runtime (database, start-up hooks) and the dependencies its
    routers and handlers share; ``main`` adds the consumer with its handler table."""
    classifiers = load_classifiers(settings)  # fails here if the configured model is missing
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[topics.ROUTING])
    caller = runtime.service_caller() if runtime.signing_key is not None else None
    deps = build_dependencies(
        settings, database=runtime.database, classifiers=classifiers, caller=caller
    )

    async def seed() -> None:
        await seed_agents(database=deps.database, agents=settings.routing_agents)

    async def warm_up_triage() -> None:
        await warm_up(classifiers=deps.classifiers, database=deps.database)

    # Agents before anything consumes; jieba and the category tree before the first triage.
    runtime.on_migrated.append(seed)
    runtime.on_migrated.append(warm_up_triage)
    return runtime, deps


def dependencies(request: Request) -> Dependencies:
    """The one reader of ``app.state``: the dependencies ``create_app`` stored there."""
    deps: Dependencies = request.app.state.dependencies
    return deps


async def _dependency(request: Request) -> Dependencies:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a thread
    # hop on every request.
    return dependencies(request)


DependenciesDep = Annotated[Dependencies, Depends(_dependency)]
