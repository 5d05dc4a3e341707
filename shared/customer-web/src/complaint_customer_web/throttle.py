"""Rate limits of public pages with the ``limits`` library (moving windows). A request is
checked against every rule that applies to it (typically one per link and one per client
address) and refused when any is exhausted; the answer carries ``RateLimit-*`` headers
(and ``Retry-After`` when refused) from the tightest rule.

The storage is built once per process by the service's composition root. With the default
``async+memory://`` each replica counts on its own, so N replicas allow up to N times a
limit: enough to stop a script hammering one link or guessing tokens, not an exact quota.
A shared storage (``async+redis://...``) makes the limits global without code changes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


@dataclass(frozen=True)
class Rule:
    """One limit (``parse("30/minute")``) on one key (``message:link:<id>``)."""

    limit: RateLimitItem
    key: str


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after_s: int
    window_s: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after_s),
            "RateLimit-Policy": f"{self.limit};w={self.window_s}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_after_s)
        return headers


def parse_limit(text: str) -> RateLimitItem:
    """``"30/minute"``, ``"5 per hour"``; raises ValueError for anything else."""
    return parse(text)


class Throttle:
    def __init__(self, storage_uri: str = "async+memory://") -> None:
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"{storage_uri!r} is not an async storage (use async+memory://)")
        self._limiter = MovingWindowRateLimiter(storage)

    async def check(self, rules: Sequence[Rule]) -> Verdict:
        """Count the request against every rule, in order; the first exhausted rule
        refuses it (the rules after it are not counted)."""
        tightest: Verdict | None = None
        for rule in rules:
            allowed = await self._limiter.hit(rule.limit, rule.key)
            verdict = await self._verdict(rule, allowed=allowed)
            if not allowed:
                return verdict
            if tightest is None or verdict.remaining < tightest.remaining:
                tightest = verdict
        return tightest or Verdict(True, 0, 0, 0, 0)

    async def _verdict(self, rule: Rule, *, allowed: bool) -> Verdict:
        stats = await self._limiter.get_window_stats(rule.limit, rule.key)
        reset_after = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(
            allowed=allowed,
            limit=rule.limit.amount,
            remaining=max(0, stats.remaining),
            reset_after_s=reset_after,
            window_s=rule.limit.get_expiry(),
        )
