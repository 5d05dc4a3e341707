"""Staff and service identity: signed JWTs (HS256, PyJWT) carrying roles.

Agents, team leads and managers get tokens from the organisation's identity provider (or
`make up`, for development); services call each other's internal APIs with a token whose
role is ``service``. Every service verifies with the shared ``AUTH_JWT_SECRET``. No web
framework here: use cases take a :class:`Principal`, and :mod:`complaint_runtime.auth`
turns a request's ``Authorization`` header into one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from complaint_runtime.errors import Unauthorized

ISSUER = "opencomplaints"
ROLES = ("agent", "lead", "manager", "admin", "service", "auditor")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    team: str | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def issue_token(
    *, secret: str, subject: str, roles: list[str], team: str | None = None, ttl_s: int = 43_200
) -> str:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; known: {', '.join(ROLES)}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "roles": roles,
        "iat": now,
        "exp": now + ttl_s,
    }
    if team:
        claims["team"] = team
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(token: str, *, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise unauthorized("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise unauthorized("The token is not valid.") from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise unauthorized("The token's roles claim is malformed.")
    team = claims.get("team")
    return Principal(str(claims["sub"]), frozenset(roles), team if isinstance(team, str) else None)


def unauthorized(detail: str) -> Unauthorized:
    """401 with the Bearer challenge."""
    return Unauthorized(detail, challenge="Bearer")
