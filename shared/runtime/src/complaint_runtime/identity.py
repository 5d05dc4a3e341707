"""Staff and service identity: short-lived JWTs signed with Ed25519 (EdDSA), one audience each.

Agents, team leads and managers get tokens from the organisation's identity provider, from
the console that signed them in, or from ``make up`` (development); a service calling
another's internal API signs a token naming itself with its own key. Every token names the
service it is for (``aud``) and lives minutes, not days. A service verifies with public keys
only (:class:`~complaint_runtime.signing_keys.TrustedKeys`, or an OpenID Connect provider's
JWKS URL), and the key id bounds what a key may sign (see :mod:`signing_keys`): a service's
key only that service, a staff issuer's key never a service. No web framework here: use
cases take a :class:`Principal`, and :mod:`complaint_runtime.auth` turns a request's
``Authorization`` header into one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Final

import jwt

from complaint_runtime.errors import Unauthorized
from complaint_runtime.signing_keys import ALGORITHM, SigningKey, TrustedKeys, service_of_kid

ISSUER: Final = "opencomplaints"
ROLES: Final = ("agent", "lead", "manager", "admin", "service", "auditor")
SERVICE_ROLE: Final = "service"
SERVICE_TOKEN_TTL_S: Final = 120
STAFF_TOKEN_TTL_S: Final = 900
DEFAULT_LEEWAY_S: Final = 30
# Verified tokens kept by their exact text until they expire: a caller reuses its token for
# half its life, and checking an Ed25519 signature costs ~0.15 ms per internal call.
VERIFIED_CACHE_SIZE: Final = 1024
# Algorithms an identity provider's keys may use (its JWKS names each key's own).
_PROVIDER_ALGORITHMS: Final = ("EdDSA", "RS256", "ES256", "PS256")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    team: str | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def service(self) -> str | None:
        """The calling service, for a service's own token (its key vouched for the name)."""
        return self.subject if SERVICE_ROLE in self.roles else None


def issue_token(
    *,
    key: SigningKey,
    subject: str,
    roles: list[str],
    audience: str | list[str],
    team: str | None = None,
    ttl_s: int = STAFF_TOKEN_TTL_S,
    issuer: str = ISSUER,
) -> str:
    """A token ``key`` signs for ``audience`` (a service name, or several for a development
    token); refused here already when the key may not sign it (see :mod:`signing_keys`)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; known: {', '.join(ROLES)}")
    _check_key_may_sign(key.kid, subject, frozenset(roles), error=ValueError)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "roles": roles,
        "iat": now,
        "exp": now + ttl_s,
    }
    if team:
        claims["team"] = team
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


@dataclass
class ServiceCaller:
    """A service's identity for its calls to others: a token per audience, signed with its
    own key, reused until half its lifetime has passed."""

    key: SigningKey
    issuer: str = ISSUER
    ttl_s: int = SERVICE_TOKEN_TTL_S
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        service = service_of_kid(self.key.kid)
        if service is None:
            raise ValueError(f"key {self.key.kid!r} is not a service's key (service:<name>)")
        return service

    def token_for(self, audience: str) -> str:
        now = time.monotonic()
        cached = self._tokens.get(audience)
        if cached is not None and now < cached[0]:
            return cached[1]
        token = issue_token(
            key=self.key,
            subject=self.name,
            roles=[SERVICE_ROLE],
            audience=audience,
            ttl_s=self.ttl_s,
            issuer=self.issuer,
        )
        self._tokens[audience] = (now + self.ttl_s / 2, token)
        return token


class TokenVerifier:
    """Verifies tokens for one audience (this service): signature by a trusted key, issuer,
    audience, expiry with a small leeway, and what the signing key may vouch for."""

    def __init__(
        self,
        *,
        audience: str,
        trusted: TrustedKeys,
        issuer: str = ISSUER,
        leeway_s: int = DEFAULT_LEEWAY_S,
        provider_jwks_url: str = "",
        provider_issuer: str = "",
    ):
        self._audience = audience
        self._trusted = trusted
        self._issuers = [issuer] + ([provider_issuer] if provider_issuer else [])
        self._leeway_s = leeway_s
        self._provider = (
            jwt.PyJWKClient(provider_jwks_url, lifespan=300) if provider_jwks_url else None
        )
        # token text -> (expiry, principal); bounded, oldest out first.
        self._verified: dict[str, tuple[float, Principal]] = {}

    @property
    def configured(self) -> bool:
        return bool(self._trusted.by_kid) or self._provider is not None

    def verify(self, token: str) -> Principal:
        """With this service's own key set only (no network)."""
        known = self._known(token)
        if known is not None:
            return known
        kid = _kid(token)
        return self._decode(token, kid, self._trusted.get(kid))

    async def verify_async(self, token: str) -> Principal:
        """The key set first, then the identity provider's JWKS (fetched, cached)."""
        known = self._known(token)
        if known is not None:
            return known
        kid = _kid(token)
        key = self._trusted.get(kid)
        if key is None and self._provider is not None:
            key = await asyncio.to_thread(self._provider_key, token)
        return self._decode(token, kid, key)

    def _known(self, token: str) -> Principal | None:
        """A token verified before, still within its lifetime (exactly the same text: a
        forged one is a different text and is verified)."""
        found = self._verified.get(token)
        if found is None:
            return None
        expires_at, principal = found
        if time.time() < expires_at:
            return principal
        del self._verified[token]
        return None

    def _remember(self, token: str, expires_at: float, principal: Principal) -> None:
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (expires_at, principal)

    def _provider_key(self, token: str) -> jwt.PyJWK | None:
        if self._provider is None:
            return None
        try:
            return self._provider.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError:
            return None

    def _decode(self, token: str, kid: str, key: jwt.PyJWK | None) -> Principal:
        if key is None:
            raise unauthorized("The token is signed by a key this service does not trust.")
        algorithm = key.algorithm_name if key.algorithm_name in _PROVIDER_ALGORITHMS else ""
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm or ALGORITHM],
                audience=self._audience,
                issuer=self._issuers,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("The token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise unauthorized(f"The token is not for this service ({self._audience}).") from exc
        except jwt.InvalidTokenError as exc:
            raise unauthorized("The token is not valid.") from exc
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise unauthorized("The token's roles claim is malformed.")
        subject = str(claims["sub"])
        _check_key_may_sign(kid, subject, frozenset(roles), error=unauthorized)
        team = claims.get("team")
        principal = Principal(subject, frozenset(roles), team if isinstance(team, str) else None)
        self._remember(token, float(claims["exp"]) + self._leeway_s, principal)
        return principal


def _kid(token: str) -> str:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as exc:
        raise unauthorized("The token is not valid.") from exc
    if not isinstance(kid, str) or not kid:
        raise unauthorized("The token names no signing key (kid).")
    return kid


def _check_key_may_sign(kid: str, subject: str, roles: frozenset[str], *, error: Any) -> None:
    """A service's key signs only that service; a staff issuer's key never a service."""
    service = service_of_kid(kid)
    if service is not None and (subject != service or roles != {SERVICE_ROLE}):
        raise error(f"Key {kid} signs only the identity of {service}, with the role service.")
    if service is None and SERVICE_ROLE in roles:
        raise error(f"Key {kid} is a staff issuer's: it may not sign a service's identity.")


def unauthorized(detail: str) -> Unauthorized:
    """401 with the Bearer challenge."""
    return Unauthorized(detail, challenge="Bearer")
