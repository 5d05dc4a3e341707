"""Keys that never leave intake: contact encryption and customer-reference hashing."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet


@dataclass(frozen=True)
class Secrets:
    """Keys that never leave intake: contact encryption and customer-reference hashing."""

    fernet: Fernet
    ref_key: bytes

    @classmethod
    def from_settings(cls, *, contact_encryption_key: str, customer_ref_key: str) -> Secrets:
        missing = [
            name
            for name, value in (
                ("CONTACT_ENCRYPTION_KEY", contact_encryption_key),
                ("CUSTOMER_REF_KEY", customer_ref_key),
            )
            if not value
        ]
        if missing:
            raise RuntimeError(
                f"{' and '.join(missing)} not set: create them with `intake-admin generate-keys`"
            )
        try:
            fernet = Fernet(contact_encryption_key.encode())
        except ValueError as exc:
            raise RuntimeError(
                "CONTACT_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes): "
                "create one with `intake-admin generate-keys`"
            ) from exc
        return cls(fernet, customer_ref_key.encode())

    def seal(self, value: str) -> bytes:
        return self.fernet.encrypt(value.encode())

    def unseal(self, sealed: bytes) -> str:
        return self.fernet.decrypt(sealed).decode()

    def encrypt(self, value: str | None) -> bytes | None:
        return None if value is None else self.seal(value)

    def decrypt(self, value: bytes | None) -> str | None:
        return None if value is None else self.unseal(value)
