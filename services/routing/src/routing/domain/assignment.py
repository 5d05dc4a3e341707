"""Who gets a new case (§5, first version): the least-loaded agent of the team under
capacity. Skills, levels for P1 and account managers come with the full engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentLoad:
    agent_id: str
    team: str
    capacity: int
    open_cases: int  # cases in an active state assigned to the agent


def pick_agent(agents: Iterable[AgentLoad], *, team: str) -> str | None:
    """The agent of ``team`` with the fewest open cases among those under capacity.

    Ties go to the smallest id so that replaying the same events gives the same answer
    (a round robin would depend on history the event alone does not carry). ``None``
    means nobody is free: the case waits in the team queue.
    """
    free = [a for a in agents if a.team == team and a.open_cases < a.capacity]
    if not free:
        return None
    return min(free, key=lambda a: (a.open_cases, a.agent_id)).agent_id
