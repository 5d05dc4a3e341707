"""OpenID Connect against the organisation's identity provider (authorization code flow,
Authlib's Starlette client): the redirect to the provider, and on the callback the user's
claims from the verified ID token (signature against the provider's JWKS, issuer,
audience, expiry, nonce), completed by the userinfo endpoint when the ID token leaves out
the roles or the team. The flow's state and nonce live in the session between the two.

Part of the sign-in's API layer: it needs the request (Authlib keeps its state in the
session).
"""

from __future__ import annotations

import warnings
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning
from joserfc.errors import JoseError

with warnings.catch_warnings():
    # Authlib announces that it will move to the httpx2 package; httpx is what the platform
    # uses (and pins), so the notice is only noise in the logs.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request
from starlette.responses import Response

from console.signin.domain.session_user import ClaimNames

DISCOVERY = "/.well-known/openid-configuration"


class OidcFailed(Exception):
    """The provider refused, or its answer did not verify (reason in the message)."""


class OidcProvider:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        scope: str,
        claim_names: ClaimNames,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.claim_names = claim_names
        client_kwargs: dict[str, Any] = {"scope": scope, "timeout": timeout_s}
        if transport is not None:
            client_kwargs["transport"] = transport
        self._app: Any = OAuth().register(
            name="idp",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=issuer.rstrip("/") + DISCOVERY,
            client_kwargs=client_kwargs,
        )

    async def redirect(self, request: Request, *, redirect_uri: str) -> Response:
        """302 to the provider's authorization endpoint (state and nonce in the session)."""
        try:
            response: Response = await self._app.authorize_redirect(request, redirect_uri)
        except (AuthlibBaseError, httpx.HTTPError, RuntimeError, ValueError) as exc:
            raise OidcFailed(f"the identity provider is not reachable ({exc!r:.200})") from exc
        return response

    async def claims(self, request: Request) -> dict[str, Any]:
        """The signed-in user's claims, once the callback's code is exchanged and the ID
        token verified."""
        try:
            token = await self._app.authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})
            if not claims:
                raise OidcFailed("the provider sent no ID token")
            if self.claim_names.roles not in claims or self.claim_names.team not in claims:
                claims = {**dict(await self._app.userinfo(token=token)), **claims}
        except OidcFailed:
            raise
        except (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError, KeyError) as exc:
            raise OidcFailed(f"the sign-in did not verify ({exc!r:.200})") from exc
        return claims
