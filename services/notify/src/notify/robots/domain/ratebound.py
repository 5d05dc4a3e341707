"""How many messages a robot takes in a time window, as each vendor documents it.

* WeCom group robot: 20 messages a minute (errcode 45009 beyond it).
* DingTalk custom robot: 20 messages a minute (errcode 130101 / 410100 beyond it; DingTalk
  then throttles the robot for ten minutes, which is why notify keeps under the bound
  instead of relying on the error).
* Feishu / Lark custom bot: 100 a minute and 5 a second (code 11232 beyond them).

The sender counts its own posts per robot against these bounds and defers a notice over
them (retried later, nothing posted). The count is per notify process: with several
processes the vendor's rate-limit answer, also retried, remains the backstop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from notify.robots.domain.notice import Vendor


@dataclass(frozen=True, slots=True)
class RateBound:
    """At most ``limit`` posts in any ``window_s`` seconds."""

    limit: int
    window_s: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s <= 0:
            raise ValueError("a rate bound needs limit >= 1 and window_s > 0")


VENDOR_BOUNDS: Final[Mapping[Vendor, tuple[RateBound, ...]]] = MappingProxyType(
    {
        "wecom": (RateBound(20, 60.0),),
        "dingtalk": (RateBound(20, 60.0),),
        "feishu": (RateBound(100, 60.0), RateBound(5, 1.0)),
    }
)


def admits(sent_at: Sequence[float], *, now: float, bounds: Sequence[RateBound]) -> bool:
    """Whether one more post at ``now`` keeps every bound, given the times (monotonic
    seconds) of the earlier posts ``sent_at``: a post counts within a window when it is
    less than ``window_s`` before ``now``."""
    return all(
        sum(1 for t in sent_at if now - t < bound.window_s) < bound.limit for bound in bounds
    )


def longest_window(bounds: Sequence[RateBound]) -> float:
    """How long a post's time must be kept to apply ``bounds`` (0 without bounds)."""
    return max((bound.window_s for bound in bounds), default=0.0)
