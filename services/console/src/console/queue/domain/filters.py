"""A queue's filters: chips (status, priority, SLA, channel, category) and a search, read
from the page's query string and passed to routing's case list as its parameters.

Unknown values are dropped (a chip link of an older page cannot make routing refuse the
list); values of one filter combine with OR, filters with AND (routing's rule). With no
status chip on, a queue shows the open cases: those with work left for an agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from complaint_contracts.vocabulary import CATEGORIES, CHANNELS, PRIORITIES

FilterName = Literal["status", "priority", "sla", "channel", "category"]
STATUS_CHIPS: Final = (
    "assigned",
    "reopened",
    "in_progress",
    "awaiting_customer",
    "resolved",
    "awaiting_confirmation",
    "closed",
)
OPEN_STATUSES: Final = ("assigned", "reopened", "in_progress", "awaiting_customer")
CHIPS: Final[Mapping[str, tuple[str, ...]]] = {
    "status": STATUS_CHIPS,
    "priority": PRIORITIES,
    "sla": ("at_risk", "breached"),
    "channel": CHANNELS,
    "category": CATEGORIES,
}
FILTER_NAMES: Final[tuple[FilterName, ...]] = ("status", "priority", "sla", "channel", "category")
MAX_QUERY: Final = 200
MAX_CURSOR: Final = 400


@dataclass(frozen=True, slots=True)
class QueueFilters:
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    sla: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    q: str = ""

    @staticmethod
    def of(params: Iterable[tuple[str, str]]) -> QueueFilters:
        """The filters in a query string (``status=assigned&status=reopened&q=退款``)."""
        found: dict[str, list[str]] = {name: [] for name in FILTER_NAMES}
        query = ""
        for name, value in params:
            if name == "q":
                query = " ".join(value.split())[:MAX_QUERY]
            elif value in CHIPS.get(name, ()) and value not in found[name]:
                found[name].append(value)
        return QueueFilters(
            status=tuple(found["status"]),
            priority=tuple(found["priority"]),
            sla=tuple(found["sla"]),
            channel=tuple(found["channel"]),
            category=tuple(found["category"]),
            q=query,
        )

    def values(self, name: FilterName) -> tuple[str, ...]:
        result: tuple[str, ...] = getattr(self, name)
        return result

    def is_on(self, name: FilterName, value: str) -> bool:
        return value in self.values(name)

    def toggled(self, name: FilterName, value: str) -> QueueFilters:
        """These filters with one chip switched on or off."""
        current = self.values(name)
        values = tuple(v for v in current if v != value) if value in current else (*current, value)
        chosen = {n: values if n == name else self.values(n) for n in FILTER_NAMES}
        return QueueFilters(
            status=chosen["status"],
            priority=chosen["priority"],
            sla=chosen["sla"],
            channel=chosen["channel"],
            category=chosen["category"],
            q=self.q,
        )

    def cleared(self) -> QueueFilters:
        return QueueFilters()

    @property
    def any(self) -> bool:
        return bool(self.q) or any(self.values(name) for name in FILTER_NAMES)

    def query(self) -> list[tuple[str, str]]:
        """The filters as the page's own query string."""
        pairs: list[tuple[str, str]] = [
            (name, value) for name in FILTER_NAMES for value in self.values(name)
        ]
        return [*pairs, ("q", self.q)] if self.q else pairs

    def routing_params(
        self,
        *,
        assignee: str | None = None,
        team: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> list[tuple[str, str]]:
        """Routing's ``GET /v1/cases`` parameters for these filters in one scope (``me``,
        a team); the open statuses when no status chip is on."""
        params: list[tuple[str, str]] = []
        if assignee:
            params.append(("assignee", assignee))
        if team:
            params.append(("team", team))
        statuses = self.status or OPEN_STATUSES
        params += [("status", s) for s in statuses]
        params += [
            (name, v) for name in FILTER_NAMES if name != "status" for v in self.values(name)
        ]
        if self.q:
            params.append(("q", self.q))
        params.append(("limit", str(limit)))
        if cursor:
            params.append(("cursor", cursor[:MAX_CURSOR]))
        return params
