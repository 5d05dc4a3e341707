"""A tiny OpenID Connect provider for the console's tests: a discovery document, an
authorization endpoint that approves a configured test user at once (no login form), a
token endpoint issuing an RS256 ID token (joserfc), the JWKS and a userinfo endpoint.

It checks what a real provider checks of the console: the client id and secret (HTTP
Basic, Authlib's default), the redirect URI and the single use of each code; and it can be
told to misbehave (sign with a key it does not publish, or name another audience) so the
tests see the console refuse such tokens.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

ISSUER = "http://idp.test"
CLIENT_ID = "console"
CLIENT_SECRET = "console-client-secret"


@dataclass
class LocalProvider:
    """The provider's state: who signs in, the codes handed out, what to break."""

    user: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": "li.lei",
            "name": "Li Lei",
            "roles": ["agent", "lead"],
            "team": "billing",
        }
    )
    userinfo_only: frozenset[str] = frozenset()  # claims left out of the ID token
    sign_with_unpublished_key: bool = False
    audience: str = CLIENT_ID
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens_issued: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
                "userinfo_endpoint": f"{ISSUER}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            query = request.query_params
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                return RedirectResponse(f"{query.get('redirect_uri')}?error=unauthorized_client")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": query.get("nonce"),
                "redirect_uri": query.get("redirect_uri"),
            }
            state = query.get("state", "")
            return RedirectResponse(f"{query.get('redirect_uri')}?code={code}&state={state}")

        @app.post("/token")
        async def token(
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            authorization: str = Header(""),
        ) -> JSONResponse:
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if authorization != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(code, None)  # a code works once
            if grant_type != "authorization_code" or grant is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if grant["redirect_uri"] != redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            self.tokens_issued += 1
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self._id_token(grant["nonce"]),
                }
            )

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/userinfo")
        async def userinfo() -> dict[str, Any]:
            return dict(self.user)

        return app

    def _id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": self.audience,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **{k: v for k, v in self.user.items() if k not in self.userinfo_only},
        }
        key = self.key
        if self.sign_with_unpublished_key:
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
