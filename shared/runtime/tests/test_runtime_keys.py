"""Key strength checked at start-up: a weak secret key (any key checked with
``check_secret``) refuses to start, naming the variable and how to make a good one."""

from __future__ import annotations

import secrets

import pytest
from complaint_runtime.keys import check_secret


def test_hex_and_generated_keys_pass() -> None:
    for _ in range(100):
        check_secret("K", secrets.token_urlsafe(32))
        check_secret("K", secrets.token_hex(16))


def test_the_message_names_the_variable_and_the_command() -> None:
    with pytest.raises(ValueError, match=r"CUSTOMER_REF_KEY is too short .*generate-keys"):
        check_secret("CUSTOMER_REF_KEY", "r", generate="`intake-admin generate-keys`")
