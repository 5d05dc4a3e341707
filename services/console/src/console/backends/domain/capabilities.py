"""Which optional parts of routing's API this routing has: the console shows internal
notes, canned replies and review tasks only when routing answers them, read from routing's
OpenAPI document (so a console can be deployed before or after such a routing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

NOTES_PATH: Final = "/v1/cases/{complaint_id}/notes"
CANNED_REPLIES_PATH: Final = "/v1/canned-replies"
TASKS_PATH: Final = "/v1/tasks"


@dataclass(frozen=True, slots=True)
class RoutingCapabilities:
    notes: bool = False
    canned_replies: bool = False
    tasks: bool = False


NONE: Final = RoutingCapabilities()


def _has(paths: Mapping[str, Any], path: str, method: str) -> bool:
    operations = paths.get(path)
    return isinstance(operations, Mapping) and method in operations


def capabilities_of(openapi: Mapping[str, Any]) -> RoutingCapabilities:
    paths = openapi.get("paths")
    if not isinstance(paths, Mapping):
        return NONE
    # The path parameter's name is routing's; match any name in that position.
    notes = any(
        p.startswith("/v1/cases/{") and p.endswith("}/notes") and _has(paths, p, "post")
        for p in paths
    )
    return RoutingCapabilities(
        notes=notes,
        canned_replies=_has(paths, CANNED_REPLIES_PATH, "get"),
        tasks=_has(paths, TASKS_PATH, "get"),
    )
