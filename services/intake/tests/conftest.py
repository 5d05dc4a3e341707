"""Fixtures shared by intake's tests."""

from __future__ import annotations

import pytest
from complaint_runtime.dev_identity import DevIdentity


@pytest.fixture(scope="session")
def identity() -> DevIdentity:
    """The test session's keys: staff tokens, every service's own tokens, ``AUTH_JWKS``."""
    return DevIdentity.generate()
