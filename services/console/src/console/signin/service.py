"""Sign-in use cases: a session user from a platform token (development sign-in) or from
an identity provider's claims (OpenID Connect), and the bearer token a user's calls carry.
See :mod:`console.signin` for whose identity the calls carry."""

from __future__ import annotations

import jwt
from complaint_runtime.errors import InvalidInput, NotConfigured, Unauthorized, field_error
from complaint_runtime.identity import issue_token, verify_token

from console.signin.domain.session_user import (
    ClaimNames,
    ClaimsRefused,
    SessionUser,
    identity_of_claims,
    staff_roles,
)

MAX_TOKEN_LENGTH = 4096


def _refused(detail: str, kind: str) -> InvalidInput:
    return InvalidInput(detail, kind=kind, errors=[field_error("token", detail, code=kind)])


def sign_in_with_token(*, token: str, secret: str, now: float, max_age_s: int) -> SessionUser:
    """The user a pasted platform token names. Refused (``InvalidInput`` on ``token``):
    empty, malformed, wrongly signed or expired, or holding no staff role."""
    if not secret:
        raise NotConfigured(
            "AUTH_JWT_SECRET is not set on the console.", kind="auth-not-configured"
        )
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _refused("Paste a platform token.", "token-missing")
    try:
        principal = verify_token(token, secret=secret)
    except Unauthorized as exc:
        expired = "expired" in (exc.detail or "")
        raise _refused(
            exc.detail or "The token is not valid.", "token-expired" if expired else "token-invalid"
        ) from exc
    roles = staff_roles(principal.roles)
    if not roles:
        raise _refused("The token holds none of the roles agent, lead, manager, admin.", "no-role")
    # verify_token checked signature and expiry; read the expiry it checked.
    expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
    return SessionUser(
        subject=principal.subject,
        roles=roles,
        team=principal.team,
        method="token",
        signed_in_at=now,
        expires_at=min(now + max_age_s, expires),
        token=token,
    )


def sign_in_with_claims(
    *, claims: dict[str, object], names: ClaimNames, now: float, max_age_s: int
) -> SessionUser:
    """The user an identity provider vouched for (its ID token's or userinfo's claims);
    ``ClaimsRefused`` when they name no usable user id or no console role."""
    subject, roles, team = identity_of_claims(claims, names)
    return SessionUser(
        subject=subject,
        roles=roles,
        team=team,
        method="oidc",
        signed_in_at=now,
        expires_at=now + max_age_s,
    )


def bearer_token(*, user: SessionUser, secret: str, ttl_s: int) -> str:
    """The token a call to routing or sla-watch carries for ``user``: the development
    sign-in's own token, or a platform token issued now for an OIDC user."""
    if user.method == "token" and user.token is not None:
        return user.token
    if not secret:
        raise NotConfigured(
            "AUTH_JWT_SECRET is not set on the console.", kind="auth-not-configured"
        )
    return issue_token(
        secret=secret,
        subject=user.subject,
        roles=sorted(user.roles),
        team=user.team,
        ttl_s=ttl_s,
    )


__all__ = ["ClaimsRefused", "bearer_token", "sign_in_with_claims", "sign_in_with_token"]
