"""Fixtures shared by notify's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from complaint_runtime.dev_identity import DevIdentity
from notify.bootstrap import Dependencies, build_dependencies
from notify.config import NotifySettings


@pytest.fixture(scope="session")
def identity() -> DevIdentity:
    """The test session's keys: staff tokens, every service's own tokens, ``AUTH_JWKS``."""
    return DevIdentity.generate()


def token_settings(identity: DevIdentity) -> dict[str, str]:
    """notify's ``AUTH_JWKS`` and its own ``AUTH_SIGNING_KEY``, as settings arguments."""
    return {k.lower(): v for k, v in identity.env("notify").items()}


@pytest.fixture
async def build_deps(
    tmp_path: Path, identity: DevIdentity
) -> AsyncIterator[Callable[..., Dependencies]]:
    """``build_deps(**settings)``: notify's dependencies as ``main.create_app`` builds them
    (database in a temporary directory and the session's keys unless given); closed after
    the test."""
    built: list[Dependencies] = []

    def build(**values: Any) -> Dependencies:
        defaults = {
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/notify.db",
            **token_settings(identity),
        }
        deps = build_dependencies(NotifySettings(**(defaults | values)))
        built.append(deps)
        return deps

    yield build
    for deps in built:
        await deps.internal_api.aclose()
        await deps.database.dispose()
