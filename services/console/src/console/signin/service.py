"""Sign-in use cases: a session user from a platform token (development sign-in) or from
an identity provider's claims (OpenID Connect), and the tokens a user's calls carry.
See :mod:`console.signin` for whose identity the calls carry."""

from __future__ import annotations

from dataclasses import dataclass, field

import jwt
from complaint_runtime.errors import InvalidInput, NotConfigured, Unauthorized, field_error
from complaint_runtime.identity import ISSUER, TokenVerifier, issue_token
from complaint_runtime.signing_keys import SigningKey

from console.signin.domain.session_user import (
    ClaimNames,
    ClaimsRefused,
    SessionUser,
    identity_of_claims,
    staff_roles,
)

MAX_TOKEN_LENGTH = 4096
NOT_CONFIGURED = (
    "The console has no AUTH_SIGNING_KEY (its own staff issuer key) or no AUTH_JWKS: "
    "it can neither check tokens nor sign its users' calls."
)


def _refused(detail: str, kind: str) -> InvalidInput:
    return InvalidInput(detail, kind=kind, errors=[field_error("token", detail, code=kind)])


def _refusal_kind(exc: Unauthorized) -> str:
    # The verifier raises from PyJWT's error: its class says why, not the wording.
    if isinstance(exc.__cause__, jwt.ExpiredSignatureError):
        return "token-expired"
    if isinstance(exc.__cause__, jwt.InvalidAudienceError):
        return "token-audience"
    return "token-invalid"


async def sign_in_with_token(
    *,
    token: str,
    verifier: TokenVerifier,
    signing_key: SigningKey | None,
    now: float,
    max_age_s: int,
) -> SessionUser:
    """The user a pasted platform token names, verified for the audience ``console``.
    Refused (``InvalidInput`` on ``token``): empty, malformed, wrongly signed, expired, for
    another audience, or holding no staff role. ``NotConfigured`` when the console can
    check no token or sign no call. The token itself is not kept: the user's calls carry
    tokens the console signs (:class:`UserTokens`)."""
    if signing_key is None or not verifier.configured:
        raise NotConfigured(NOT_CONFIGURED, kind="auth-not-configured")
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _refused("Paste a platform token.", "token-missing")
    try:
        principal = await verifier.verify_async(token)
    except Unauthorized as exc:
        raise _refused(exc.detail or "The token is not valid.", _refusal_kind(exc)) from exc
    roles = staff_roles(principal.roles)
    if not roles:
        raise _refused("The token holds none of the roles agent, lead, manager, admin.", "no-role")
    # The verifier checked signature and expiry; read the expiry it checked.
    expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
    return SessionUser(
        subject=principal.subject,
        roles=roles,
        team=principal.team,
        method="token",
        signed_in_at=now,
        expires_at=min(now + max_age_s, expires),
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


@dataclass
class UserTokens:
    """The tokens one request's calls carry for ``user``: one per audience (``routing``,
    ``sla-watch``), signed with the console's own key, living ``ttl_s``; minted at the
    first call to each audience and reused for the rest of the request."""

    user: SessionUser
    key: SigningKey
    ttl_s: int
    issuer: str = ISSUER
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    def token_for(self, audience: str) -> str:
        token = self._tokens.get(audience)
        if token is None:
            token = issue_token(
                key=self.key,
                subject=self.user.subject,
                roles=sorted(self.user.roles),
                team=self.user.team,
                audience=audience,
                ttl_s=self.ttl_s,
                issuer=self.issuer,
            )
            self._tokens[audience] = token
        return token


def user_tokens(
    *, user: SessionUser, signing_key: SigningKey | None, ttl_s: int, issuer: str = ISSUER
) -> UserTokens:
    """``user``'s tokens for this request; ``NotConfigured`` without the console's key."""
    if signing_key is None:
        raise NotConfigured(NOT_CONFIGURED, kind="auth-not-configured")
    return UserTokens(user=user, key=signing_key, ttl_s=ttl_s, issuer=issuer)


__all__ = [
    "ClaimsRefused",
    "UserTokens",
    "sign_in_with_claims",
    "sign_in_with_token",
    "user_tokens",
]
