"""What the lead's board shows of routing's and sla-watch's answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.queue.domain.rows import parse_time


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _items(answer: object, key: str | None = None) -> list[Mapping[str, Any]]:
    if key is not None and isinstance(answer, Mapping):
        answer = answer.get(key)
    return [i for i in answer if isinstance(i, Mapping)] if isinstance(answer, list) else []


@dataclass(frozen=True, slots=True)
class AgentLoad:
    id: str
    level: str
    availability: str
    load: int
    capacity: int

    @property
    def full(self) -> bool:
        return self.load >= self.capacity

    @property
    def percent(self) -> int:
        """Load as a share of capacity, 0..100 (a capacity of 0 is full)."""
        if self.capacity <= 0:
            return 100
        return min(100, round(100 * self.load / self.capacity))

    @staticmethod
    def of(item: Mapping[str, Any]) -> AgentLoad:
        return AgentLoad(
            id=str(item.get("id", "")),
            level=str(item.get("level", "")),
            availability=str(item.get("availability", "")),
            load=_int(item.get("open_load")),
            capacity=_int(item.get("capacity")),
        )


def agent_loads(answer: object) -> tuple[AgentLoad, ...]:
    """Online agents first, then the most loaded."""
    agents = [AgentLoad.of(a) for a in _items(answer)]
    return tuple(sorted(agents, key=lambda a: (a.availability != "online", -a.percent, a.id)))


@dataclass(frozen=True, slots=True)
class Deadline:
    """A running clock of the team, soonest first (sla-watch's at-risk view)."""

    complaint_id: str
    metric: str
    priority: str
    due_at: datetime | None
    warned_percent: int


def deadlines(answer: object) -> tuple[Deadline, ...]:
    return tuple(
        Deadline(
            complaint_id=str(c.get("complaint_id", "")),
            metric=str(c.get("metric", "")),
            priority=str(c.get("priority", "")),
            due_at=parse_time(c.get("due_at")),
            warned_percent=max((_int(p) for p in c.get("fired_percents") or []), default=0),
        )
        for c in _items(answer, "clocks")
    )
