"""The FastAPI side of identity: a request's bearer token as a :class:`Principal`, and
dependencies admitting the roles a route needs (tokens themselves: :mod:`identity`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from complaint_runtime.errors import Forbidden, NotConfigured
from complaint_runtime.identity import (
    ISSUER,
    ROLES,
    Principal,
    issue_token,
    unauthorized,
    verify_token,
)

# Routers take the principal and its helpers from here, next to the dependencies.
__all__ = [
    "ISSUER",
    "ROLES",
    "Principal",
    "current_principal",
    "issue_token",
    "require_roles",
    "verify_token",
]


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header(max_length=4096)] = None
) -> Principal:
    secret: str = request.app.state.runtime.settings.auth_jwt_secret
    if not secret:
        raise NotConfigured(
            "AUTH_JWT_SECRET is not set on this service.",
            title="Authentication not configured",
            kind="auth-not-configured",
        )
    if not authorization or not authorization.lower().startswith("bearer "):
        raise unauthorized("Send 'Authorization: Bearer <token>'.")
    return verify_token(authorization[7:].strip(), secret=secret)


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting a principal holding any of ``roles``."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return principal

    return dependency
