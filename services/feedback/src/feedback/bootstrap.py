"""Feedback's composition root: everything the routers, the consumer and the auto-close loop
use, built once from the settings. Routers take it with ``DependenciesDep``; nothing else
reads ``app.state``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

import structlog
from complaint_runtime.database import Database
from fastapi import Depends, Request

from feedback.autoclose import AutoCloser
from feedback.config import FeedbackSettings
from feedback.domain.closed_loop import ClosedLoopSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Dependencies:
    settings: FeedbackSettings
    database: Database
    loop_settings: ClosedLoopSettings
    link_secret: str
    """The effective secret: FEEDBACK_LINK_SECRET, or a per-process one (development)."""
    auto_closer: AutoCloser


def build_dependencies(settings: FeedbackSettings, database: Database) -> Dependencies:
    loop_settings = settings.loop_settings()
    return Dependencies(
        settings=settings,
        database=database,
        loop_settings=loop_settings,
        link_secret=settings.feedback_link_secret or _development_secret(),
        auto_closer=AutoCloser(
            database=database,
            loop_settings=loop_settings,
            tick_s=settings.feedback_tick_s,
            batch_size=settings.feedback_auto_close_batch,
        ),
    )


def _development_secret() -> str:
    log.warning(
        "FEEDBACK_LINK_SECRET is not set: survey links are signed with a random per-process "
        "key and stop working when the process restarts"
    )
    return secrets.token_urlsafe(32)


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.dependencies
    return deps


DependenciesDep = Annotated[Dependencies, Depends(dependencies)]
