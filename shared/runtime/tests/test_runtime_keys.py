"""Key strength checked at start-up: a weak AUTH_JWT_SECRET (or any key checked with
``check_secret``) refuses to start, naming the variable and how to make a good one."""

from __future__ import annotations

import secrets

import pytest
from complaint_runtime.keys import check_secret
from complaint_runtime.settings import ServiceSettings
from pydantic import ValidationError


@pytest.mark.parametrize("weak", ["x", "secret", "s" * 31, "x" * 64, "ab" * 20, "短" * 10])
def test_a_weak_jwt_secret_refuses_to_start(weak: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ServiceSettings(auth_jwt_secret=weak)
    message = str(refused.value)
    assert "AUTH_JWT_SECRET" in message
    assert "secrets.token_urlsafe(32)" in message


def test_an_unset_jwt_secret_is_allowed_and_a_random_one_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServiceSettings(auth_jwt_secret="").auth_jwt_secret == ""
    strong = secrets.token_urlsafe(32)
    monkeypatch.setenv("AUTH_JWT_SECRET", strong)
    assert ServiceSettings().auth_jwt_secret == strong


def test_hex_and_generated_keys_pass() -> None:
    for _ in range(100):
        check_secret("K", secrets.token_urlsafe(32))
        check_secret("K", secrets.token_hex(16))


def test_the_message_names_the_variable_and_the_command() -> None:
    with pytest.raises(ValueError, match=r"CUSTOMER_REF_KEY is too short .*generate-keys"):
        check_secret("CUSTOMER_REF_KEY", "r", generate="`intake-admin generate-keys`")
