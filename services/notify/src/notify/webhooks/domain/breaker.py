"""A circuit breaker per webhook endpoint, as a pure state machine (no I/O, no clock).

The pattern of Michael Nygard's "Release It!" as described by Martin Fowler ("CircuitBreaker",
2014): an endpoint that keeps failing is not called for a while, then one probe tests it.

```
closed    → open        after ``failure_threshold`` consecutive failures
open      → half_open   at the first Ask once ``cool_down`` has passed; that Ask is the probe
half_open → closed      the probe succeeded
half_open → open        the probe failed, or had no answer within ``probe_timeout``
any state → the same    everything else
```

Commands come in (``Ask``: may a request go now?; ``RecordSuccess`` / ``RecordFailure``: the
answer of a request let through at ``sent_at``); a :class:`Step` goes out with the new
:class:`Breaker` and whether the request may go. Decisions taken here:

- Half-open lets exactly one request through (the probe, the Ask that entered it); every other
  Ask is refused until the probe's answer moves the breaker. A property test checks that no
  sequence of commands lets a second one through.
- A result of a request sent before the current state began (``sent_at < since``) is stale
  and ignored: a slow answer from before the breaker opened neither closes it nor counts
  twice, and only the probe's own answer decides a half-open breaker.
- An unanswered probe (the worker died) would keep the breaker half-open for ever; after
  ``probe_timeout`` the next Ask counts it as failed and re-opens the breaker instead.
- What counts as a failure is the caller's call; the intent: timeouts, connection failures,
  408, 429 and 5xx are failures, any other answer (2xx, and 4xx: the endpoint is up) a success.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal

State = Literal["closed", "open", "half_open"]
STATES: Final[tuple[State, ...]] = ("closed", "open", "half_open")

# The graph; ``decide`` never leaves it (a property test checks it).
GRAPH: Final[dict[State, frozenset[State]]] = {
    "closed": frozenset({"closed", "open"}),
    "open": frozenset({"open", "half_open"}),
    "half_open": frozenset({"half_open", "closed", "open"}),
}


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    cool_down: timedelta = timedelta(minutes=1)
    probe_timeout: timedelta = timedelta(minutes=1)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("the failure threshold is at least 1")
        if self.cool_down <= timedelta(0) or self.probe_timeout <= timedelta(0):
            raise ValueError("the cool-down and the probe timeout are positive")


@dataclass(frozen=True, slots=True)
class Breaker:
    """One endpoint's breaker. ``since``: when the current state began (None: from the start)."""

    state: State = "closed"
    consecutive_failures: int = 0
    since: datetime | None = None


# -- commands


@dataclass(frozen=True, slots=True)
class Ask:
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordSuccess:
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class RecordFailure:
    sent_at: datetime
    now: datetime


Command = Ask | RecordSuccess | RecordFailure


@dataclass(frozen=True, slots=True)
class Step:
    old_state: State
    breaker: Breaker
    let_through: bool = False  # only an Ask can be let through


def decide(breaker: Breaker, command: Command, policy: BreakerPolicy) -> Step:
    """The breaker after ``command``, and for an Ask whether the request may go."""
    old = breaker.state
    if isinstance(command, Ask):
        return _ask(breaker, command.now, policy)
    if breaker.since is not None and command.sent_at < breaker.since:
        return Step(old, breaker)  # stale: sent before the current state began
    if isinstance(command, RecordSuccess):
        if old == "open":
            return Step(old, breaker)
        if old == "half_open":
            return Step(old, Breaker("closed", 0, command.sent_at))
        return Step(old, replace(breaker, consecutive_failures=0))
    # RecordFailure
    if old == "open":
        return Step(old, breaker)
    if old == "half_open":
        return Step(old, Breaker("open", 0, command.now))
    failures = breaker.consecutive_failures + 1
    if failures >= policy.failure_threshold:
        return Step(old, Breaker("open", 0, command.now))
    return Step(old, replace(breaker, consecutive_failures=failures))


def _ask(breaker: Breaker, now: datetime, policy: BreakerPolicy) -> Step:
    old = breaker.state
    if old == "closed":
        return Step(old, breaker, let_through=True)
    # open and half_open always have ``since`` (set on entering them)
    since = breaker.since if breaker.since is not None else now
    if old == "open":
        if now - since >= policy.cool_down:
            return Step(old, Breaker("half_open", 0, now), let_through=True)
        return Step(old, breaker)
    if now - since >= policy.probe_timeout:
        return Step(old, Breaker("open", 0, now))  # the probe never answered: a failure
    return Step(old, breaker)
