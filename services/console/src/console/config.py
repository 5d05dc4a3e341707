"""The console's settings (environment variables, no prefix like every service; each name
below is the upper-cased field name, e.g. ``CONSOLE_DEV_SIGN_IN``; every one has a default).

Shared with the other services (``complaint_runtime.settings.ServiceSettings``):
``AUTH_JWKS`` (public keys) verifies the development sign-in's pasted tokens, which must be
for the audience ``console``; ``AUTH_SIGNING_KEY`` is the console's own private key, a staff
issuer's (kid e.g. ``console``, never ``service:*``), signing the short-lived token of each
call it makes for a signed-in user (one per audience: ``routing``, ``sla-watch``), so
routing and sla-watch must trust its public key; ``DATABASE_URL`` holds the console's own
read model of case changes (live updates); ``KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

from typing import Literal

from complaint_runtime.keys import check_secret
from complaint_runtime.settings import ServiceSettings
from pydantic import Field, field_validator


class ConsoleSettings(ServiceSettings):
    service_name: str = "console"
    database_url: str = "sqlite+aiosqlite:///./.run/console.db"
    max_body_bytes: int = Field(
        1024 * 1024,
        description=(
            "Larger request bodies get 413; above routing's limits, so that an over-long "
            "text gets the form's own error instead"
        ),
    )

    console_routing_url: str = Field(
        "http://127.0.0.1:8002", description="Base URL of routing's API (cases, commands, staff)"
    )
    console_sla_watch_url: str = Field(
        "http://127.0.0.1:8003", description="Base URL of sla-watch's API (clocks at risk)"
    )
    console_http_timeout_s: float = Field(
        5.0, gt=0, description="Timeout of each call to routing or sla-watch"
    )

    console_dev_sign_in: bool = Field(
        False,
        description=(
            "Show the development sign-in form, which takes a platform token (the role "
            "tokens `make up` prints); never in production"
        ),
    )
    console_oidc_issuer: str = Field(
        "",
        description=(
            "OpenID Connect issuer of the organisation's identity provider (its discovery "
            "document is <issuer>/.well-known/openid-configuration); empty: no OIDC sign-in"
        ),
    )
    console_oidc_client_id: str = Field("", description="The console's client id at the provider")
    console_oidc_client_secret: str = Field(
        "", description="The console's client secret at the provider"
    )
    console_oidc_scope: str = Field("openid profile", description="Scopes asked for")
    console_oidc_subject_claim: str = Field(
        "sub",
        description="Claim holding the user id (must be an id, never an e-mail address)",
    )
    console_oidc_roles_claim: str = Field(
        "roles",
        description=(
            "Claim holding the user's platform roles (a list, or a space-separated string); "
            "agent, lead, manager and admin are kept, anything else is dropped"
        ),
    )
    console_oidc_team_claim: str = Field("team", description="Claim holding the user's team")
    console_public_url: str = Field(
        "",
        description=(
            "The console's external base URL (e.g. https://console.example.com), used for "
            "the OIDC callback address; empty: taken from the request"
        ),
    )
    console_platform_token_ttl_s: int = Field(
        300,
        ge=30,
        le=3600,
        description=(
            "Lifetime of the platform token the console signs for a signed-in user's calls "
            "to routing or sla-watch (one per audience and request)"
        ),
    )

    console_session_secret: str = Field(
        "",
        description=(
            "Key signing the session cookie (shared by every console replica); empty: "
            "derived from AUTH_SIGNING_KEY (HMAC of its private key)"
        ),
    )

    @field_validator("console_session_secret")
    @classmethod
    def _strong_console_session_secret(cls, value: str) -> str:
        return check_secret("CONSOLE_SESSION_SECRET", value) if value else value

    console_session_max_age_s: int = Field(
        8 * 3600, ge=60, le=7 * 24 * 3600, description="A session ends this long after sign-in"
    )
    console_cookie_secure: bool = Field(
        True,
        description="Send the session cookie over HTTPS only (false for local development)",
    )

    console_timezone: str = Field(
        "Asia/Shanghai", description="Time zone of the dates and times shown (IANA name)"
    )
    console_default_language: Literal["zh-CN", "en"] = Field(
        "zh-CN", description="Language when the browser asks for neither zh-CN nor en"
    )
    console_page_size: int = Field(25, ge=1, le=100, description="Cases per page of a queue")

    console_live_poll_s: float = Field(
        1.0, gt=0, le=30, description="How often each live stream looks for new changes"
    )
    console_live_heartbeat_s: float = Field(
        15.0, gt=0, description="Keep-alive comment interval of the live stream"
    )
    console_live_stream_max_s: float = Field(
        300.0,
        gt=0,
        description=(
            "A live stream ends after this long and the browser reconnects (from its last "
            "event id): the session is checked again on each connection"
        ),
    )
    console_live_retention_s: int = Field(
        3600, ge=60, description="Changes older than this are pruned from the read model"
    )
    console_live_prune_interval_s: float = Field(
        300.0, gt=0, description="How often the pruning loop runs"
    )
    console_presence_ttl_s: int = Field(
        15,
        ge=5,
        le=300,
        description=(
            "A user typing in a case's composer is shown to the case's other viewers as "
            "writing for this long after their last keystroke (their page says so every 3 s "
            "while they type)"
        ),
    )
    console_presence_poll_s: int = Field(
        5, ge=1, le=60, description="How often a case page asks who else is writing"
    )
