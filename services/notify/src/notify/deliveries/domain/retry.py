"""When a failed delivery is tried again, and when notify gives up."""

from __future__ import annotations

from typing import Literal

Decision = Literal["retry", "final"]


def backoff_s(*, attempts: int, base_s: float, cap_s: float) -> float:
    """Delay before the next attempt after ``attempts`` failed ones: base, 2×base, 4×base, …
    never more than ``cap_s``."""
    exponent = min(max(attempts - 1, 0), 32)  # bounded so the float never overflows
    return float(min(base_s * (2**exponent), cap_s))


def after_failure(*, attempts: int, max_attempts: int, retryable: bool) -> Decision:
    """A retryable failure is retried while attempts remain; anything else is final."""
    return "retry" if retryable and attempts < max_attempts else "final"
