"""Who gets a case (§5), as pure rules over snapshots of agents and cases.

The engine (``routing.assignment.service``) reads the snapshots, asks these rules for an order of
preference and then claims agents one by one with an atomic conditional update: the
snapshot may be stale under parallel consumers, the claim never is. So the rules rank, and
the database has the last word on capacity.

Decisions taken here:

- An agent without category skills is qualified for every category of their team; an agent
  without languages speaks every language (the ``ROUTING_AGENTS`` of earlier versions list
  neither and must keep receiving cases).
- P1 and escalated cases (escalation level > 0) need a senior, whoever else qualifies,
  account managers and explicit transfer targets included.
- A VIP case goes to the customer's account manager when the manager is online, has room
  and (for P1 / escalated) is senior; the manager may sit in another team. Otherwise the
  normal rule applies.
- Ties on load go to the least recently assigned agent (round robin), then the smallest id,
  so that a ranking is a total order.
- The queue is first come, first served among the cases an agent qualifies for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

Level = Literal["junior", "intermediate", "senior"]
Availability = Literal["online", "offline"]
LEVELS: Final[tuple[Level, ...]] = ("junior", "intermediate", "senior")
AVAILABILITIES: Final[tuple[Availability, ...]] = ("online", "offline")
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    agent_id: str
    team: str
    level: str
    capacity: int
    load: int  # open cases assigned to the agent (the counter the claims maintain)
    online: bool = True
    categories: frozenset[str] = field(default_factory=frozenset)  # empty: all of the team's
    languages: frozenset[str] = field(default_factory=frozenset)  # empty: every language
    last_assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseNeeds:
    """What a case asks of its agent."""

    team: str
    category: str
    language: str
    priority: str
    escalation_level: int = 0
    tier: str = "standard"


@dataclass(frozen=True, slots=True)
class QueuedCase:
    complaint_id: str
    needs: CaseNeeds
    queued_at: datetime


def needs_senior(needs: CaseNeeds) -> bool:
    return needs.priority == "P1" or needs.escalation_level > 0


def has_room(agent: AgentSnapshot) -> bool:
    return agent.online and agent.load < agent.capacity


def level_fits(agent: AgentSnapshot, needs: CaseNeeds) -> bool:
    return agent.level == "senior" or not needs_senior(needs)


def qualifies(agent: AgentSnapshot, needs: CaseNeeds) -> bool:
    """Team, category skill, language and level; availability and room are separate."""
    return (
        agent.team == needs.team
        and (not agent.categories or needs.category in agent.categories)
        and (not agent.languages or needs.language in agent.languages)
        and level_fits(agent, needs)
    )


def _preference(agent: AgentSnapshot) -> tuple[int, datetime, str]:
    return (agent.load, agent.last_assigned_at or _NEVER, agent.agent_id)


def rank_agents(
    agents: Iterable[AgentSnapshot],
    needs: CaseNeeds,
    *,
    account_manager: AgentSnapshot | None = None,
) -> list[str]:
    """Agents to try, best first: the account manager of a VIP (when free and of the right
    level), then the team's qualified agents with room, least loaded first, least recently
    assigned on ties. Empty: nobody is free, the case waits in the team queue."""
    ranked = sorted((a for a in agents if has_room(a) and qualifies(a, needs)), key=_preference)
    order = [a.agent_id for a in ranked]
    if (
        needs.tier == "vip"
        and account_manager is not None
        and has_room(account_manager)
        and level_fits(account_manager, needs)
    ):
        order = [account_manager.agent_id] + [i for i in order if i != account_manager.agent_id]
    return order


def pick_agent(
    agents: Iterable[AgentSnapshot],
    needs: CaseNeeds,
    *,
    account_manager: AgentSnapshot | None = None,
) -> str | None:
    ranked = rank_agents(agents, needs, account_manager=account_manager)
    return ranked[0] if ranked else None


def next_queued_for(agent: AgentSnapshot, queued: Sequence[QueuedCase]) -> QueuedCase | None:
    """The longest-waiting queued case ``agent`` qualifies for, when the agent has room."""
    if not has_room(agent):
        return None
    fitting = [q for q in queued if qualifies(agent, q.needs)]
    return min(fitting, key=lambda q: (q.queued_at, q.complaint_id)) if fitting else None


TargetProblem = Literal["offline", "at-capacity", "not-senior", "other-team"]


def transfer_target_problem(agent: AgentSnapshot, needs: CaseNeeds) -> TargetProblem | None:
    """Why an agent a lead names cannot take the case (None: they can). Skills are the
    lead's call; level, availability and capacity are not."""
    if agent.team != needs.team:
        return "other-team"
    if not agent.online:
        return "offline"
    if agent.load >= agent.capacity:
        return "at-capacity"
    if not level_fits(agent, needs):
        return "not-senior"
    return None
