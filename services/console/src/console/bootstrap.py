"""The console's composition root: everything its pages, its consumer and its pruning
loop use, built once from the settings.

``main.create_app`` builds :class:`Dependencies` and keeps it on ``app.state``; pages get
it through :data:`DependenciesDep`, the consumer through ``messaging.handlers(deps)``.
Tests pass ``transports`` to put fakes (``httpx.MockTransport``, an ASGI app) in the place
of routing, sla-watch and the identity provider.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import httpx
import structlog
from complaint_runtime.database import Database, utcnow
from complaint_runtime.periodic import PeriodicLoop
from complaint_runtime.service import ServiceRuntime
from complaint_runtime.signing_keys import SigningKey, service_of_kid
from fastapi import Depends, Request

from console.backends.routing_api import RoutingApi
from console.backends.sla_watch_api import SlaWatchApi
from console.config import ConsoleSettings
from console.live import service as live
from console.signin.domain.session_user import ClaimNames
from console.signin.oidc import OidcProvider
from console.web.rendering import Pages

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Transports:
    """Where the console's HTTP calls go; None: the network (tests put fakes here)."""

    routing: httpx.AsyncBaseTransport | None = None
    sla_watch: httpx.AsyncBaseTransport | None = None
    identity_provider: httpx.AsyncBaseTransport | None = None


@dataclass(frozen=True)
class Dependencies:
    """What the console's pages, consumer and loop use; one per process."""

    settings: ConsoleSettings
    runtime: ServiceRuntime
    routing: RoutingApi
    sla_watch: SlaWatchApi
    oidc: OidcProvider | None
    pages: Pages
    zone: ZoneInfo
    session_secret: str
    clock: Callable[[], datetime]
    prune_loop: PeriodicLoop = field(repr=False)

    @property
    def database(self) -> Database:
        return self.runtime.database

    async def aclose(self) -> None:
        await self.routing.aclose()
        await self.sla_watch.aclose()


def session_secret(settings: ConsoleSettings, signing_key: SigningKey | None) -> str:
    """``CONSOLE_SESSION_SECRET``, else a key derived from the console's own private key
    (``AUTH_SIGNING_KEY``: the same on every replica; HMAC, so the cookie key reveals
    nothing of the signing key), else a random one: sessions then end when the process
    does (and without a signing key no page works but the sign-in page anyway)."""
    if settings.console_session_secret:
        return settings.console_session_secret
    if signing_key is not None:
        return signing_key.derive(b"console-session").hex()
    log.warning("no CONSOLE_SESSION_SECRET or AUTH_SIGNING_KEY: sessions end with this process")
    return secrets.token_hex(32)


def staff_issuer_key(runtime: ServiceRuntime) -> SigningKey | None:
    """The console's key must be a staff issuer's (kid e.g. ``console``): a service's key
    (``service:<name>``) may sign only that service, never a user; refused at start-up
    rather than at every call."""
    key = runtime.signing_key
    if key is not None and service_of_kid(key.kid) is not None:
        raise ValueError(
            f"AUTH_SIGNING_KEY of the console has kid {key.kid!r}: it signs its users' tokens, "
            "so it must be a staff issuer's key (e.g. kid console), not a service's"
        )
    return key


def make_oidc(
    settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None
) -> OidcProvider | None:
    """The identity provider's client, when ``CONSOLE_OIDC_ISSUER`` and a client id are
    set (the discovery document is read at the first sign-in, not at start-up)."""
    if not settings.console_oidc_issuer or not settings.console_oidc_client_id:
        return None
    return OidcProvider(
        issuer=settings.console_oidc_issuer,
        client_id=settings.console_oidc_client_id,
        client_secret=settings.console_oidc_client_secret,
        scope=settings.console_oidc_scope,
        claim_names=ClaimNames(
            subject=settings.console_oidc_subject_claim,
            roles=settings.console_oidc_roles_claim,
            team=settings.console_oidc_team_claim,
        ),
        transport=transport,
        timeout_s=max(settings.console_http_timeout_s, 5.0),
    )


def make_prune_loop(
    database: Database, settings: ConsoleSettings, clock: Callable[[], datetime]
) -> PeriodicLoop:
    async def prune_round() -> bool:
        await live.prune(
            database=database, now=clock(), retention_s=settings.console_live_retention_s
        )
        return False

    return PeriodicLoop(
        prune_round, name="live-prune", tick_s=settings.console_live_prune_interval_s
    )


def build_dependencies(
    settings: ConsoleSettings,
    *,
    transports: Transports | None = None,
    clock: Callable[[], datetime] = utcnow,
    pages: Pages | None = None,
) -> Dependencies:
    transports = transports or Transports()
    runtime = ServiceRuntime(settings=settings, migrations=MIGRATIONS, produces=[])
    pages = pages or Pages()
    if not pages.with_vendor:
        log.warning("htmx not found in static/vendor: run `python -m console.assets`")
    return Dependencies(
        settings=settings,
        runtime=runtime,
        routing=RoutingApi(
            base_url=settings.console_routing_url,
            timeout_s=settings.console_http_timeout_s,
            transport=transports.routing,
        ),
        sla_watch=SlaWatchApi(
            base_url=settings.console_sla_watch_url,
            timeout_s=settings.console_http_timeout_s,
            transport=transports.sla_watch,
        ),
        oidc=make_oidc(settings, transports.identity_provider),
        pages=pages,
        zone=ZoneInfo(settings.console_timezone),
        session_secret=session_secret(settings, staff_issuer_key(runtime)),
        clock=clock,
        prune_loop=make_prune_loop(runtime.database, settings, clock),
    )


def dependencies(request: Request) -> Dependencies:
    """The one place that reads ``app.state``."""
    deps: Dependencies = request.app.state.dependencies
    return deps


async def _dependency(request: Request) -> Dependencies:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, a thread
    # hop on every request.
    return dependencies(request)


DependenciesDep = Annotated[Dependencies, Depends(_dependency)]
