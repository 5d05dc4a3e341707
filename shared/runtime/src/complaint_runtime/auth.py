"""The FastAPI side of identity: a request's bearer token as a :class:`Principal`, and
dependencies admitting the roles a route needs, or the services an internal route names
(tokens themselves: :mod:`identity`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from complaint_runtime.errors import Forbidden, NotConfigured
from complaint_runtime.identity import (
    ISSUER,
    ROLES,
    Principal,
    TokenVerifier,
    issue_token,
    unauthorized,
)

# Routers take the principal and its helpers from here, next to the dependencies.
__all__ = [
    "ISSUER",
    "ROLES",
    "Principal",
    "current_principal",
    "issue_token",
    "require_callers",
    "require_roles",
]


async def current_principal(
    request: Request, authorization: Annotated[str | None, Header(max_length=4096)] = None
) -> Principal:
    verifier: TokenVerifier = request.app.state.runtime.token_verifier
    if not verifier.configured:
        raise NotConfigured(
            "Neither AUTH_JWKS nor AUTH_JWKS_URL is set on this service.",
            title="Authentication not configured",
            kind="auth-not-configured",
        )
    if not authorization or not authorization.lower().startswith("bearer "):
        raise unauthorized("Send 'Authorization: Bearer <token>'.")
    return await verifier.verify_async(authorization[7:].strip())


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting a principal holding any of ``roles``."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
        return principal

    return dependency


def require_callers(
    *services: str, staff_roles: tuple[str, ...] = ()
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency for an internal route: only these services, each with its own token
    (signed with its own key, so the name is vouched for), and staff holding any of
    ``staff_roles`` when the route serves people too (e.g. an administrator)."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.service in services:
            return principal
        if principal.service is None and principal.has_any(*staff_roles):
            return principal
        named = ", ".join([*services, *(f"role {r}" for r in staff_roles)])
        raise Forbidden(f"This internal API is for: {named}.")

    return dependency
