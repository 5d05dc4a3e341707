"""The key material of a development or test platform: one staff issuer standing in for the
organisation's identity provider, the console's own issuer key, and every service's own key.

``make up``, the integration harness, the bench and the services' unit tests take their keys
from here, so each configures services the way production does: public keys in
``AUTH_JWKS`` for everyone, one private key per service in ``AUTH_SIGNING_KEY``, and the
staff issuer's private key nowhere but here (it signs the development role tokens).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from complaint_runtime.identity import (
    ISSUER,
    SERVICE_ROLE,
    SERVICE_TOKEN_TTL_S,
    STAFF_TOKEN_TTL_S,
    TokenVerifier,
    issue_token,
)
from complaint_runtime.signing_keys import SigningKey, TrustedKeys, jwks, service_kid

SERVICES: Final = ("intake", "routing", "sla-watch", "feedback", "notify", "console")
# The console signs tokens for the users it signed in: a staff issuer, not a service.
STAFF_ISSUER_SERVICES: Final = frozenset({"console"})
DEV_ISSUER_KID: Final = "dev-identity-provider"


@dataclass(frozen=True)
class DevIdentity:
    staff: SigningKey
    services: Mapping[str, SigningKey]

    @classmethod
    def generate(cls, services: Iterable[str] = SERVICES) -> DevIdentity:
        return cls(
            SigningKey.generate(DEV_ISSUER_KID),
            {name: SigningKey.generate(_kid(name)) for name in services},
        )

    def to_json(self) -> str:
        """Every private key, for a development platform to keep between runs."""
        keys = {"staff": self.staff.private_jwk()}
        keys |= {name: key.private_jwk() for name, key in self.services.items()}
        return json.dumps(keys)

    @classmethod
    def from_json(cls, text: str) -> DevIdentity:
        keys = json.loads(text)
        staff = SigningKey.from_jwk(keys.pop("staff"), setting="staff key")
        return cls(staff, {name: SigningKey.from_jwk(k, setting=name) for name, k in keys.items()})

    def jwks(self) -> str:
        """``AUTH_JWKS`` for every service: all public keys."""
        return json.dumps(jwks([self.staff, *self.services.values()]))

    def env(self, service: str) -> dict[str, str]:
        """A service's token settings: the public keys, its own private key."""
        return {"AUTH_JWKS": self.jwks(), "AUTH_SIGNING_KEY": self.services[service].private_jwk()}

    def token(
        self,
        *,
        subject: str,
        roles: list[str],
        audience: str | list[str],
        team: str | None = None,
        ttl_s: int = STAFF_TOKEN_TTL_S,
    ) -> str:
        """A staff token from the development identity provider."""
        return issue_token(
            key=self.staff,
            subject=subject,
            roles=roles,
            audience=audience,
            team=team,
            ttl_s=ttl_s,
        )

    def service_token(self, *, caller: str, audience: str, ttl_s: int = SERVICE_TOKEN_TTL_S) -> str:
        """A token ``caller`` signs with its own key for a call to ``audience``."""
        return issue_token(
            key=self.services[caller],
            subject=caller,
            roles=[SERVICE_ROLE],
            audience=audience,
            ttl_s=ttl_s,
        )

    def verifier(self, audience: str) -> TokenVerifier:
        """What a service built from :meth:`env` verifies with."""
        return TokenVerifier(
            audience=audience, trusted=TrustedKeys.parse(self.jwks()), issuer=ISSUER
        )


def _kid(service: str) -> str:
    return service if service in STAFF_ISSUER_SERVICES else service_kid(service)
