"""Which optional parts of routing's API this routing has: the console shows internal
notes, canned replies, tasks, escalation, duplicate linking and contact reveal only
when routing answers them, read from routing's OpenAPI document (so a console can be
deployed before or after such a routing, and never offers a button that would 404)."""

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
    escalate: bool = False
    link_duplicate: bool = False
    unlink_duplicate: bool = False
    reveal_contact: bool = False


NONE: Final = RoutingCapabilities()


def _has(paths: Mapping[str, Any], path: str, method: str) -> bool:
    operations = paths.get(path)
    return isinstance(operations, Mapping) and method in operations


def _case_command(paths: Mapping[str, Any], suffix: str) -> bool:
    """``POST /v1/cases/{<any name>}/<suffix>``: the path parameter's name is routing's."""
    return any(
        p.startswith("/v1/cases/{")
        and p.endswith("}/" + suffix)
        and "/" not in p[len("/v1/cases/{") : -len("}/" + suffix)]
        and _has(paths, p, "post")
        for p in paths
    )


def capabilities_of(openapi: Mapping[str, Any]) -> RoutingCapabilities:
    paths = openapi.get("paths")
    if not isinstance(paths, Mapping):
        return NONE
    return RoutingCapabilities(
        notes=_case_command(paths, "notes"),
        canned_replies=_has(paths, CANNED_REPLIES_PATH, "get"),
        tasks=_has(paths, TASKS_PATH, "get"),
        escalate=_case_command(paths, "escalate"),
        link_duplicate=_case_command(paths, "duplicate-of"),
        unlink_duplicate=_case_command(paths, "duplicate-of/unlink"),
        reveal_contact=_case_command(paths, "contact/reveal"),
    )
