"""Intake's secrets: refused clearly when missing, malformed or weak; contacts encrypted at
rest under the first of several keys, readable under any of them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from intake.cli import generate_keys
from intake.complaints.domain.secret_keys import Secrets

FERNET_KEY = Fernet.generate_key().decode()
REF_KEY = "ref-key-for-intake-secret-tests-0123456789"


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
        Secrets.from_settings(contact_encryption_key="", customer_ref_key=REF_KEY)
    assert "CONTACT_ENCRYPTION_KEY" in str(raised.value)
    assert "CUSTOMER_REF_KEY" not in str(raised.value)


def test_ref_key_is_kept_as_bytes() -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=REF_KEY)
    assert secrets.ref_key == REF_KEY.encode()


@pytest.mark.parametrize("weak", ["x", "ref-key", "a" * 31, "x" * 64, "0101010101" * 4])
def test_a_weak_customer_ref_key_is_refused_at_start(weak: str) -> None:
    with pytest.raises(RuntimeError) as raised:
        Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=weak)
    assert "CUSTOMER_REF_KEY" in str(raised.value)
    assert "generate-keys" in str(raised.value)


def test_generated_keys_pass_the_checks() -> None:
    keys = generate_keys()
    Secrets.from_settings(
        contact_encryption_key=keys["CONTACT_ENCRYPTION_KEY"],
        customer_ref_key=keys["CUSTOMER_REF_KEY"],
    )


@pytest.mark.parametrize("plain", ["+8613812345678", "zhang.wei@example.com", "黄晓明", ""])
def test_encrypt_decrypt_round_trip(plain: str) -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=REF_KEY)
    sealed = secrets.encrypt(plain)
    assert isinstance(sealed, bytes)
    assert plain.encode() not in sealed or plain == ""
    assert secrets.decrypt(sealed) == plain


def test_encryption_is_randomised() -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=REF_KEY)
    assert secrets.encrypt("13812345678") != secrets.encrypt("13812345678")


def test_none_stays_none() -> None:
    secrets = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=REF_KEY)
    assert secrets.encrypt(None) is None
    assert secrets.decrypt(None) is None


def test_another_key_cannot_decrypt() -> None:
    mine = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=REF_KEY)
    other = Secrets.from_settings(
        contact_encryption_key=Fernet.generate_key().decode(), customer_ref_key=REF_KEY
    )
    sealed = mine.encrypt("13812345678")
    with pytest.raises(InvalidToken):
        other.decrypt(sealed)


def test_malformed_encryption_key_is_refused_at_start() -> None:
    with pytest.raises(RuntimeError, match="CONTACT_ENCRYPTION_KEY"):
        Secrets.from_settings(contact_encryption_key="not-a-fernet-key", customer_ref_key=REF_KEY)


def test_a_malformed_key_in_a_list_is_named_by_its_position() -> None:
    with pytest.raises(RuntimeError, match="key 2 of 2 in CONTACT_ENCRYPTION_KEY"):
        Secrets.from_settings(
            contact_encryption_key=f"{FERNET_KEY},not-a-fernet-key", customer_ref_key=REF_KEY
        )


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    new = Fernet.generate_key().decode()
    old = Secrets.from_settings(contact_encryption_key=FERNET_KEY, customer_ref_key=REF_KEY)
    both = Secrets.from_settings(
        contact_encryption_key=f"{new}, {FERNET_KEY}", customer_ref_key=REF_KEY
    )
    under_old = old.seal("13812345678")
    assert both.unseal(under_old) == "13812345678"
    assert not both.is_current(under_old)
    resealed = both.reseal(under_old)
    assert both.is_current(resealed)
    assert Fernet(new.encode()).decrypt(resealed) == b"13812345678"
    assert Fernet(new.encode()).decrypt(both.seal("x")) == b"x"
    with pytest.raises(InvalidToken):
        old.unseal(resealed)
