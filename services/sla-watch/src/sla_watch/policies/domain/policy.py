"""SLA policies: which targets and which calendar a clock gets (§4 matrix, §6).

A :class:`Policy` matches on the complaint's priority and optionally its category, customer
tier and channel (``None`` matches anything); the first enabled policy that matches wins, so
order matters: specific policies go before general ones. A policy set is valid when every
priority has a policy that matches it whatever the other facts are, so :func:`first_match`
can never fail for a valid set.

The default matrix (§4), and how it is read. §4 gives P1 "2 h, 24×7 / 24 h, 24×7" and for
P2–P4 business-hours targets: "4 h / 48 h", "24 h / 3 working days", "48 h / 5 working
days". Read literally (24 h of business hours = 3.2 working days of 7.5 h), P3's first
response (24 h) would fall *after* its own resolution (3 working days = 22.5 h), and P2's
resolution (48 h = 6.4 working days) after P3's. The matrix writes "24 h, business hours"
beside "3 working days", so a business "24 h" is one working day and "48 h" two; a working
day is the calendar's working time, 7.5 h on ``cn-mainland`` (09:00–12:00 and 13:30–18:00,
Monday–Friday, mainland holidays and make-up working days, Asia/Shanghai). Hence:

* P1 on ``24x7``: first response 2 h (7 200 s), resolution 24 h (86 400 s);
* P2 on ``cn-mainland``: 4 working hours (14 400 s), 2 working days (54 000 s);
* P3 on ``cn-mainland``: 1 working day (27 000 s), 3 working days (81 000 s);
* P4 on ``cn-mainland``: 2 working days (54 000 s), 5 working days (135 000 s).

Next response (each customer message waiting for an agent's reply) has the first-response
target: §6 names the clock but gives no figure of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol, get_args

from complaint_contracts.vocabulary import CATEGORIES, CHANNELS, PRIORITIES, Tier

Metric = Literal["first_response", "next_response", "resolution"]
METRIC_NAMES: tuple[Metric, ...] = ("first_response", "next_response", "resolution")
TIERS: tuple[str, ...] = get_args(Tier)

WORKING_HOUR_S = 3600
WORKING_DAY_S = 27_000  # 7.5 h: cn-mainland's 09:00-12:00 + 13:30-18:00
MAX_TARGET_S = 10 * 366 * 86_400  # beyond any business calendar's search horizon

TWENTY_FOUR_SEVEN_ID = "24x7"
CN_MAINLAND_ID = "cn-mainland"


class Facts(Protocol):
    """What a policy matches on (:class:`~sla_watch.policies.domain.terms.ComplaintFacts`)."""

    @property
    def priority(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def tier(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...


class NoMatchingPolicyError(LookupError):
    """No enabled policy matches (impossible for a set that passed :func:`validate_policies`)."""


class InvalidPolicySetError(ValueError):
    """A policy set that would leave clocks without terms; ``problems`` says why."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Policy:
    policy_id: str
    position: int
    name: str
    calendar_id: str
    first_response_s: int
    next_response_s: int
    resolution_s: int
    priority: str | None = None
    category: str | None = None
    tier: str | None = None
    channel: str | None = None
    enabled: bool = True

    def matches(self, facts: Facts) -> bool:
        return self.enabled and all(
            wanted is None or wanted == actual
            for wanted, actual in (
                (self.priority, facts.priority),
                (self.category, facts.category),
                (self.tier, facts.tier),
                (self.channel, facts.channel),
            )
        )

    def target(self, metric: Metric) -> int:
        return {
            "first_response": self.first_response_s,
            "next_response": self.next_response_s,
            "resolution": self.resolution_s,
        }[metric]

    @property
    def catches_all_of_its_priorities(self) -> bool:
        """Matches every complaint of its priority (or of any, when priority is None)."""
        return self.enabled and self.category is None and self.tier is None and self.channel is None


def first_match(policies: Iterable[Policy], facts: Facts) -> Policy:
    """The first policy in ``policies`` (taken in the order given: callers pass them by
    position) that is enabled and matches ``facts``."""
    for policy in policies:
        if policy.matches(facts):
            return policy
    raise NoMatchingPolicyError(
        f"no enabled policy matches priority={facts.priority} category={facts.category} "
        f"tier={facts.tier} channel={facts.channel}"
    )


def ordered(policies: Iterable[Policy]) -> list[Policy]:
    """By position (ties by id, so the order is total); positions renumbered 1..n."""
    ranked = sorted(policies, key=lambda p: (p.position, p.policy_id))
    return [replace(p, position=i) for i, p in enumerate(ranked, start=1)]


def unmatched_priorities(policies: Iterable[Policy]) -> list[str]:
    """Priorities for which some complaint would match no policy."""
    covered: set[str] = set()
    for policy in policies:
        if policy.catches_all_of_its_priorities:
            covered.update(PRIORITIES if policy.priority is None else (policy.priority,))
    return [p for p in PRIORITIES if p not in covered]


def policy_problems(policy: Policy, *, calendar_ids: Iterable[str] | None = None) -> list[str]:
    """What is wrong with one policy on its own."""
    problems: list[str] = []
    for label, value, allowed in (
        ("priority", policy.priority, PRIORITIES),
        ("category", policy.category, CATEGORIES),
        ("tier", policy.tier, TIERS),
        ("channel", policy.channel, CHANNELS),
    ):
        if value is not None and value not in allowed:
            problems.append(
                f"policy {policy.policy_id}: unknown {label} {value!r} "
                f"(known: {', '.join(allowed)})"
            )
    for metric in METRIC_NAMES:
        seconds = policy.target(metric)
        if not 0 < seconds <= MAX_TARGET_S:
            problems.append(
                f"policy {policy.policy_id}: {metric} target must be 1..{MAX_TARGET_S} "
                f"seconds, got {seconds}"
            )
    if calendar_ids is not None and policy.calendar_id not in set(calendar_ids):
        problems.append(f"policy {policy.policy_id}: unknown calendar {policy.calendar_id!r}")
    return problems


def validate_policies(
    policies: Sequence[Policy], *, calendar_ids: Iterable[str] | None = None
) -> None:
    """Raise :class:`InvalidPolicySetError` unless every policy is sound, ids are unique and
    every priority is matched whatever the category, tier and channel."""
    known = None if calendar_ids is None else frozenset(calendar_ids)
    problems: list[str] = []
    seen: set[str] = set()
    for policy in policies:
        if policy.policy_id in seen:
            problems.append(f"policy id {policy.policy_id!r} is used twice")
        seen.add(policy.policy_id)
        problems.extend(policy_problems(policy, calendar_ids=known))
    missing = unmatched_priorities(policies)
    if missing:
        problems.append(
            "no enabled policy without category/tier/channel conditions matches priority "
            + ", ".join(missing)
            + "; such complaints would get no SLA clock"
        )
    if problems:
        raise InvalidPolicySetError(problems)


def _default(priority: str, position: int, calendar_id: str, fr: int, res: int) -> Policy:
    return Policy(
        policy_id=f"default-{priority}",
        position=position,
        name=f"{priority} default (§4 matrix)",
        calendar_id=calendar_id,
        first_response_s=fr,
        next_response_s=fr,
        resolution_s=res,
        priority=priority,
    )


DEFAULT_POLICIES: tuple[Policy, ...] = (
    _default("P1", 1, TWENTY_FOUR_SEVEN_ID, 2 * 3600, 24 * 3600),
    _default("P2", 2, CN_MAINLAND_ID, 4 * WORKING_HOUR_S, 2 * WORKING_DAY_S),
    _default("P3", 3, CN_MAINLAND_ID, 1 * WORKING_DAY_S, 3 * WORKING_DAY_S),
    _default("P4", 4, CN_MAINLAND_ID, 2 * WORKING_DAY_S, 5 * WORKING_DAY_S),
)


def check_targets(targets: Mapping[str, int]) -> dict[str, int]:
    """Targets by priority from configuration: known priorities, positive seconds, so a typo
    fails at start-up, not at the first complaint."""
    unknown = set(targets) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"unknown priorities {sorted(unknown)}; known: {', '.join(PRIORITIES)}")
    bad = {p: s for p, s in targets.items() if not 0 < s <= MAX_TARGET_S}
    if bad:
        raise ValueError(f"targets must be 1..{MAX_TARGET_S} seconds: {bad}")
    return dict(targets)
