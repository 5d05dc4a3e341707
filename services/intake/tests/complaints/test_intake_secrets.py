"""Intake's secrets: refused clearly when missing, contacts encrypted at rest."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from intake.complaints.domain.secret_keys import Secrets

FERNET_KEY = Fernet.generate_key().decode()


def test_both_missing_are_named() -> None:
    with pytest.raises(RuntimeError) as raised:
        Secrets.from_settings(contact_encryption_key="", customer_ref_key="")
    message = str(raised.value)
    assert "CONTACT_ENCRYPTION_KEY" in message
    assert "CUSTOMER_REF_KEY" in message
    assert "generate-keys" in message


def test_only_the_missing_one_is_named() -> None:
    with pytest.raises(RuntimeError) as raised:
        Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key="")
    assert "CUSTOMER_REF_KEY" in str(raised.value)
    assert "CONTACT_ENCRYPTION_KEY" not in str(raised.value)

    with pytest.raises(RuntimeError) as raised:
        Secrets.from_settings(contact_encryption_key="", customer_ref_key="ref-key")
    assert "CONTACT_ENCRYPTION_KEY" in str(raised.value)
    assert "CUSTOMER_REF_KEY" not in str(raised.value)


def test_ref_key_is_kept_as_bytes() -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key="ref-key")
    assert secrets.ref_key == b"ref-key"


@pytest.mark.parametrize("plain", ["+8613812345678", "zhang.wei@example.com", "黄晓明", ""])
def test_encrypt_decrypt_round_trip(plain: str) -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key="r")
    sealed = secrets.encrypt(plain)
    assert isinstance(sealed, bytes)
    assert plain.encode() not in sealed or plain == ""
    assert secrets.decrypt(sealed) == plain


def test_encryption_is_randomised() -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key="r")
    assert secrets.encrypt("13812345678") != secrets.encrypt("13812345678")


def test_none_stays_none() -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key="r")
    assert secrets.encrypt(None) is None
    assert secrets.decrypt(None) is None


def test_another_key_cannot_decrypt() -> None:
    mine = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key="r")
    other = Secrets.from_settings(
        contact_encryption_key=Fernet.generate_key().decode(), customer_ref_key="r"
    )
    sealed = mine.encrypt("13812345678")
    with pytest.raises(InvalidToken):
        other.decrypt(sealed)


def test_malformed_encryption_key_is_refused_at_start() -> None:
    with pytest.raises(RuntimeError, match="CONTACT_ENCRYPTION_KEY"):
        Secrets.from_settings(contact_encryption_key="not-a-fernet-key", customer_ref_key="r")
