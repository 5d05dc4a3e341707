"""Why a hand-off is refused: the named agent cannot take the case, or the target is not
real. Domain errors; the runtime maps them to 409 ``agent-offline`` /
``agent-at-capacity`` / ``agent-not-senior`` / ``agent-other-team`` (with ``agent``) and
422 ``unknown-target`` (one error per field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from complaint_runtime.errors import Conflict, InvalidInput

from routing.assignment.domain.agent_choice import TargetProblem

_UNAVAILABLE: Final[dict[TargetProblem, tuple[str, str]]] = {
    "offline": ("Agent offline", "The agent is offline; choose another or the team queue."),
    "at-capacity": ("Agent at capacity", "The agent has as many open cases as their capacity."),
    "not-senior": ("Senior agent needed", "P1 and escalated cases go to senior agents only."),
    "other-team": ("Agent of another team", "The agent is not in the target team."),
}


class AgentUnavailableError(Conflict):
    """The agent a lead names cannot take the case now (``problem`` says why)."""

    def __init__(self, problem: TargetProblem, *, agent: str) -> None:
        title, explanation = _UNAVAILABLE[problem]
        super().__init__(explanation, title=title, kind=f"agent-{problem}", agent=agent)


class UnknownTargetError(InvalidInput):
    """A team or agent named in a request does not exist (``errors`` name the fields)."""

    default_title = "Unknown reassignment target"
    default_kind = "unknown-target"

    def __init__(self, *, errors: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
        super().__init__(title=title, errors=errors)
