"""Fixtures shared by notify's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from notify.bootstrap import Dependencies, build_dependencies
from notify.config import NotifySettings


@pytest.fixture
async def build_deps(tmp_path: Path) -> AsyncIterator[Callable[..., Dependencies]]:
    """``build_deps(**settings)``: notify's dependencies as ``main.create_app`` builds them
    (database in a temporary directory unless given); closed after the test."""
    built: list[Dependencies] = []

    def build(**values: Any) -> Dependencies:
        defaults = {"database_url": f"sqlite+aiosqlite:///{tmp_path}/notify.db"}
        deps = build_dependencies(NotifySettings(**(defaults | values)))
        built.append(deps)
        return deps

    yield build
    for deps in built:
        await deps.internal_api.aclose()
        await deps.database.dispose()
