"""Admission of complaint submissions: the in-flight ones counted, new ones shed with a 503
when the rule of :mod:`intake.complaints.domain.admission` says so (one per process: each
replica protects its own event loop)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from complaint_runtime.errors import Unavailable
from prometheus_client import Counter

from intake.complaints.domain.admission import AdmissionLimits, should_shed

SHED = Counter("intake_submissions_shed_total", "Complaint submissions refused with 503 (overload)")


class Admission:
    def __init__(self, limits: AdmissionLimits, *, clock: Callable[[], float] = time.monotonic):
        self._limits = limits
        self._clock = clock
        # Insertion-ordered: the first entry is the oldest submission still in flight.
        self._started: dict[int, float] = {}
        self._tokens = itertools.count()

    @property
    def in_flight(self) -> int:
        return len(self._started)

    def oldest_age_s(self) -> float:
        if not self._started:
            return 0.0
        return self._clock() - next(iter(self._started.values()))

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a place while the submission is handled; :class:`Unavailable` (503, nothing
        stored) when intake is overloaded."""
        if should_shed(self._limits, in_flight=self.in_flight, oldest_age_s=self.oldest_age_s()):
            SHED.inc()
            raise Unavailable(
                "Intake is overloaded and did not store this complaint; "
                "send it again after the Retry-After seconds."
            )
        token = next(self._tokens)
        self._started[token] = self._clock()
        try:
            yield
        finally:
            del self._started[token]
