"""Every FastAPI dependency of every service is a coroutine function: FastAPI runs a plain
function dependency in a worker thread, a thread hop on every request that costs CPU and
latency under load (it was about 4 % of intake's CPU). The routers are found by importing
every module of each service's package."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

PACKAGES = ("intake", "routing", "sla_watch", "feedback", "notify", "console")


def _routers(package_name: str) -> Iterator[tuple[str, APIRouter]]:
    package = importlib.import_module(package_name)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        if ".migrations" in info.name or info.name.endswith(".__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, APIRouter):
                yield f"{info.name}.{name}", value


def _plain(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (
            inspect.iscoroutinefunction(call)
            or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
            or inspect.isclass(call)  # FastAPI's security schemes are awaited classes
        ):
            yield getattr(call, "__qualname__", repr(call))
        yield from _plain(sub)


@pytest.mark.parametrize("package_name", PACKAGES)
def test_no_dependency_runs_in_a_worker_thread(package_name: str) -> None:
    found = list(_routers(package_name))
    assert found, f"no router found in {package_name}"
    plain = {
        f"{where} {route.path}: {name}"
        for where, router in found
        for route in router.routes
        if isinstance(route, APIRoute)
        for name in _plain(route.dependant)
    }
    assert not plain, "plain-function dependencies (make them async def):\n" + "\n".join(
        sorted(plain)
    )
