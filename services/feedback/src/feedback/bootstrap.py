"""Feedback's composition root: everything the routers, the consumer and the background
loops use, built once from the settings. Routers take it with ``DependenciesDep``; nothing
else reads ``app.state``."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

import structlog
from complaint_customer_web.assets import Asset, asset_urls, load_assets
from complaint_customer_web.catalog import Catalog
from complaint_customer_web.csrf import derive_key
from complaint_customer_web.rendering import CustomerPages
from complaint_customer_web.throttle import Throttle, parse_limit
from complaint_runtime.database import Database
from fastapi import Depends, Request
from limits import RateLimitItem

from feedback.autoclose import AutoCloser
from feedback.config import FeedbackSettings
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.nps.domain.settings import NpsSettings
from feedback.nps.loop import NpsLoop
from feedback.pages.domain.throttling import limits_with
from feedback.pages.domain.words import WORDS

log = structlog.get_logger(__name__)
PAGE_TEMPLATES: Final = Path(__file__).resolve().parent / "pages" / "templates"


@dataclass(frozen=True)
class CustomerWeb:
    """What the survey and NPS pages need: templates and words, the CSS and script they
    serve, the rate limits (``throttle`` counts in RATE_LIMIT_STORAGE_URI's storage:
    memory, per replica, by default) and the key of their CSRF tokens (derived from the
    link secret, so no new secret has to be deployed)."""

    pages: CustomerPages
    catalog: Catalog
    assets: Mapping[str, Asset]
    throttle: Throttle
    rate_limits: Mapping[str, RateLimitItem]
    csrf_key: bytes


def build_customer_web(settings: FeedbackSettings, link_secret: str) -> CustomerWeb:
    """Refuses to start (ValueError) with a rate limit it cannot parse or does not know."""
    assets = load_assets()
    return CustomerWeb(
        pages=CustomerPages([PAGE_TEMPLATES], assets=asset_urls(assets)),
        catalog=Catalog().with_messages(WORDS),
        assets=assets,
        throttle=Throttle(settings.rate_limit_storage_uri),
        rate_limits={
            name: parse_limit(text)
            for name, text in limits_with(settings.feedback_page_rate_limits).items()
        },
        csrf_key=derive_key(link_secret.encode()),
    )


@dataclass(frozen=True)
class Dependencies:
    settings: FeedbackSettings
    database: Database
    loop_settings: ClosedLoopSettings
    link_secret: str
    """The effective secret: FEEDBACK_LINK_SECRET, or a per-process one (development)."""
    auto_closer: AutoCloser
    nps_settings: NpsSettings
    nps_loop: NpsLoop
    web: CustomerWeb


def build_dependencies(settings: FeedbackSettings, database: Database) -> Dependencies:
    loop_settings = settings.loop_settings()
    nps_settings = settings.nps_settings()
    link_secret = settings.feedback_link_secret or _development_secret()
    return Dependencies(
        settings=settings,
        database=database,
        loop_settings=loop_settings,
        link_secret=link_secret,
        auto_closer=AutoCloser(
            database=database,
            loop_settings=loop_settings,
            tick_s=settings.feedback_tick_s,
            batch_size=settings.feedback_auto_close_batch,
        ),
        nps_settings=nps_settings,
        nps_loop=NpsLoop(database=database, nps=nps_settings, tick_s=settings.nps_tick_s),
        web=build_customer_web(settings, link_secret),
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


async def _dependency(request: Request) -> Dependencies:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a thread
    # hop on every request.
    return dependencies(request)


DependenciesDep = Annotated[Dependencies, Depends(_dependency)]
