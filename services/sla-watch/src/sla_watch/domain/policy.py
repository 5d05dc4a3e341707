"""Which target a clock gets: by priority for now (§4 matrix, from settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from complaint_contracts.vocabulary import PRIORITIES, Priority

Metric = Literal["first_response", "resolution"]

# §4 matrix as 24×7 seconds until business calendars arrive (3 / 5 working days are
# read as 72 h / 120 h).
DEFAULT_FIRST_RESPONSE_TARGETS_S: dict[str, int] = {
    "P1": 2 * 3600,
    "P2": 4 * 3600,
    "P3": 24 * 3600,
    "P4": 48 * 3600,
}
DEFAULT_RESOLUTION_TARGETS_S: dict[str, int] = {
    "P1": 24 * 3600,
    "P2": 48 * 3600,
    "P3": 72 * 3600,
    "P4": 120 * 3600,
}


@dataclass(frozen=True)
class Target:
    seconds: int
    policy_id: str


def merge_targets(overrides: Mapping[str, int], defaults: Mapping[str, int]) -> dict[str, int]:
    """Defaults with the overridden priorities replaced; rejects unknown keys and non-positive
    targets so a typo in configuration fails at start-up, not at the first complaint."""
    unknown = set(overrides) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"unknown priorities {sorted(unknown)}; known: {', '.join(PRIORITIES)}")
    merged = {**defaults, **overrides}
    bad = {p: s for p, s in merged.items() if s <= 0}
    if bad:
        raise ValueError(f"targets must be positive seconds: {bad}")
    return merged


def target_for(
    *,
    metric: Metric,
    priority: Priority,
    first_response: Mapping[str, int],
    resolution: Mapping[str, int],
) -> Target:
    table = first_response if metric == "first_response" else resolution
    return Target(seconds=table[priority], policy_id=f"default-{priority}")
