"""When intake sheds a new complaint instead of queueing it (overload).

Past its capacity a server that accepts everything only queues: every answer gets slower,
memory grows, and clients time out after their complaint was stored anyway. Intake rather
refuses new submissions at once with a 503 and Retry-After (nothing stored, the front end
retries) while the submissions it already holds are late: the oldest still in flight has
waited longer than ``shed_after_s``. The latency of what it accepts stays bounded by about
that time, whatever the machine's capacity, with no figure to tune per deployment.
``max_in_flight`` bounds memory on top.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    max_in_flight: int
    shed_after_s: float  # 0: only the count limit

    def __post_init__(self) -> None:
        if self.max_in_flight < 1 or self.shed_after_s < 0:
            raise ValueError("max_in_flight >= 1 and shed_after_s >= 0")


def should_shed(limits: AdmissionLimits, *, in_flight: int, oldest_age_s: float) -> bool:
    """Whether a new submission is refused, given those in flight and the age of the oldest."""
    if in_flight >= limits.max_in_flight:
        return True
    return limits.shed_after_s > 0 and in_flight > 0 and oldest_age_s > limits.shed_after_s
