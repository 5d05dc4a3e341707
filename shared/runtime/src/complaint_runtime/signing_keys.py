"""Signing keys for tokens: Ed25519 key pairs as JSON Web Keys, and key sets (JWKS).

Who holds what (docs/security.md, "Tokens"): a service holds the **public** keys it trusts
(``AUTH_JWKS``, or an identity provider's ``AUTH_JWKS_URL``) and at most **one private key**
of its own (``AUTH_SIGNING_KEY``), for the calls it makes. The key id says what a key may
sign, and verification enforces it (:mod:`complaint_runtime.identity`):

- ``service:<name>`` (or ``service:<name>#<version>``, for rotating): that service's own
  identity only (``sub=<name>``, role ``service``);
- any other id: a staff issuer (an identity provider, the console signing in its users, the
  development sign-in of ``make up``); it may sign staff roles, never ``service``.

So a compromised internet-facing service (intake, feedback) can only speak as itself, and
no service can mint an administrator. Pure apart from key generation; no web framework.

``python -m complaint_runtime.signing_keys new service:notify`` prints a new private key;
``... public < key.json`` prints the public JWKS of one or more private keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from jwt.api_jwk import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

ALGORITHM: Final = "EdDSA"
SERVICE_KID_PREFIX: Final = "service:"
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


def service_kid(service: str) -> str:
    return f"{SERVICE_KID_PREFIX}{service}"


def service_of_kid(kid: str) -> str | None:
    """The service a key speaks for, or None for a staff issuer's key. A suffix after ``#``
    tells a service's keys apart during a rotation (``service:notify#2026-12``)."""
    if not kid.startswith(SERVICE_KID_PREFIX):
        return None
    return kid[len(SERVICE_KID_PREFIX) :].split("#", 1)[0]


@dataclass(frozen=True)
class SigningKey:
    """One private Ed25519 key with its key id."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        if not kid.strip():
            raise ValueError("a signing key needs a key id")
        return cls(kid, Ed25519PrivateKey.generate())

    @classmethod
    def from_jwk(cls, text: str, *, setting: str = "AUTH_SIGNING_KEY") -> SigningKey:
        """A private JWK (``kty=OKP``, ``crv=Ed25519``, ``d``, ``kid``); ``ValueError``
        naming ``setting`` and what is wrong otherwise."""
        try:
            members = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{setting} is not JSON: {exc}") from None
        if not isinstance(members, dict) or not members.get("kid") or "d" not in members:
            raise ValueError(
                f"{setting} must be a private JSON Web Key with a kid (make one with "
                "`python -m complaint_runtime.signing_keys new <kid>`)"
            )
        try:
            key = OKPAlgorithm.from_jwk(members)
        except Exception as exc:  # PyJWT raises InvalidKeyError or plain errors
            raise ValueError(f"{setting} is not an Ed25519 key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{setting} is not a private Ed25519 key")
        return cls(str(members["kid"]), key)

    def derive(self, label: bytes) -> bytes:
        """A 32-byte sub-key for one purpose named by ``label`` (HMAC-SHA256 of the private
        key): the same on every replica holding this key, revealing nothing of it, and
        unrelated to the sub-key of any other label. Rotating the key changes it."""
        return hmac.new(self.private_key.private_bytes_raw(), label, hashlib.sha256).digest()

    def private_jwk(self) -> str:
        members = json.loads(OKPAlgorithm.to_jwk(self.private_key))
        return json.dumps({**members, "kid": self.kid, "alg": ALGORITHM, "use": "sig"})

    def public_jwk(self) -> dict[str, Any]:
        members = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return {**members, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def jwks(keys: Iterable[SigningKey]) -> dict[str, Any]:
    """The public key set of ``keys``: what verifiers are given and what is published."""
    return {"keys": [key.public_jwk() for key in keys]}


@dataclass(frozen=True)
class TrustedKeys:
    """Public keys by key id, from a JWKS (``AUTH_JWKS``)."""

    by_kid: Mapping[str, PyJWK]

    @classmethod
    def parse(cls, text: str, *, setting: str = "AUTH_JWKS") -> TrustedKeys:
        if not text.strip():
            return cls({})
        try:
            members = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{setting} is not JSON: {exc}") from None
        if not isinstance(members, dict) or not isinstance(members.get("keys"), list):
            raise ValueError(f'{setting} must be a JSON Web Key Set: {{"keys": [...]}}')
        for member in members["keys"]:
            if not isinstance(member, dict) or not member.get("kid"):
                raise ValueError(f"{setting}: every key needs a kid")
            if _PRIVATE_MEMBERS & set(member):
                raise ValueError(
                    f"{setting} holds a private key ({member['kid']}): give services the "
                    "public keys only"
                )
        if not members["keys"]:
            return cls({})  # an empty set: no token accepted yet (a placeholder)
        try:
            parsed = PyJWKSet.from_dict(members)
        except (PyJWKError, PyJWKSetError) as exc:
            raise ValueError(f"{setting}: {exc}") from None
        return cls({str(key.key_id): key for key in parsed.keys})

    def get(self, kid: str) -> PyJWK | None:
        return self.by_kid.get(kid)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "new":
        sys.stdout.write(SigningKey.generate(args[1]).private_jwk() + "\n")
        return 0
    if args == ["public"]:
        keys = [SigningKey.from_jwk(line, setting="input") for line in sys.stdin if line.strip()]
        sys.stdout.write(json.dumps(jwks(keys)) + "\n")
        return 0
    sys.stderr.write(
        "usage: python -m complaint_runtime.signing_keys new <kid> | public < private-keys\n"
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
