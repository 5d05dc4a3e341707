"""Keys that never leave intake: contact encryption and customer-reference hashing.

``CONTACT_ENCRYPTION_KEY`` is a comma-separated list of Fernet keys, newest first: the first
encrypts, every one decrypts. Rotating it: put a new key in front (``NEW,OLD``) on every
replica, run ``intake-admin rotate-contact-key`` (it rewrites every encrypted value under
the new key), then remove the old key. Both keys are checked at start-up: a malformed
Fernet key or a short ``CUSTOMER_REF_KEY`` refuses to start, naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from complaint_runtime.keys import check_secret
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

GENERATE = "`intake-admin generate-keys`"


@dataclass(frozen=True)
class Secrets:
    """Keys that never leave intake: contact encryption and customer-reference hashing."""

    fernet: MultiFernet
    current: Fernet
    ref_key: bytes

    @classmethod
    def from_settings(cls, *, contact_encryption_key: str, customer_ref_key: str) -> Secrets:
        """The keys of the settings; ``RuntimeError`` saying what is wrong (missing, not a
        Fernet key, too weak) and how to make good ones, so the service refuses to start."""
        missing = [
            name
            for name, value in (
                ("CONTACT_ENCRYPTION_KEY", contact_encryption_key),
                ("CUSTOMER_REF_KEY", customer_ref_key),
            )
            if not value.strip()
        ]
        if missing:
            raise RuntimeError(f"{' and '.join(missing)} not set: create them with {GENERATE}")
        fernets = _fernets(contact_encryption_key)
        try:
            check_secret("CUSTOMER_REF_KEY", customer_ref_key, generate=GENERATE)
        except ValueError as exc:
            raise RuntimeError(str(exc)) from exc
        return cls(MultiFernet(fernets), fernets[0], customer_ref_key.encode())

    def seal(self, value: str) -> bytes:
        """``value`` encrypted under the current (first) key."""
        return self.current.encrypt(value.encode())

    def unseal(self, sealed: bytes) -> str:
        """The value sealed under any of the configured keys (``InvalidToken`` otherwise)."""
        return self.fernet.decrypt(sealed).decode()

    def encrypt(self, value: str | None) -> bytes | None:
        return None if value is None else self.seal(value)

    def decrypt(self, value: bytes | None) -> str | None:
        return None if value is None else self.unseal(value)

    def is_current(self, sealed: bytes) -> bool:
        """Whether ``sealed`` is already under the current key (nothing to rotate)."""
        try:
            self.current.decrypt(sealed)
        except InvalidToken:
            return False
        return True

    def reseal(self, sealed: bytes) -> bytes:
        """``sealed`` re-encrypted under the current key (its timestamp kept); a value under
        none of the configured keys raises ``InvalidToken``."""
        return self.fernet.rotate(sealed)


def _fernets(setting: str) -> list[Fernet]:
    keys = [key.strip() for key in setting.split(",")]
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError as exc:
            which = f"key {position} of {len(keys)} in " if len(keys) > 1 else ""
            raise RuntimeError(
                f"{which}CONTACT_ENCRYPTION_KEY is not a Fernet key (32 url-safe "
                f"base64-encoded bytes; several keys are separated by commas, the current "
                f"first): create one with {GENERATE}"
            ) from exc
    return fernets
