"""Request- and event-scoped identifiers, carried in contextvars so logs and new events
pick them up without every function passing them along."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog


@dataclass(frozen=True)
class Causation:
    correlation_id: str
    causation_id: str | None


_causation: ContextVar[Causation | None] = ContextVar("causation", default=None)


def current_causation() -> Causation:
    """The causation of work in progress; a fresh correlation when nothing set one."""
    found = _causation.get()
    return found if found is not None else Causation(str(uuid.uuid4()), None)


@contextmanager
def caused_by(
    *, correlation_id: str, causation_id: str | None, **log_fields: str | None
) -> Iterator[None]:
    """Within this block, new events share the correlation and name their cause."""
    token = _causation.set(Causation(correlation_id, causation_id))
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id, **log_fields):
        try:
            yield
        finally:
            _causation.reset(token)


# Where the work in progress came from, for the audit log: an HTTP client's address, or
# the consumer's topic; "internal" for the service's own timers and jobs.
_origin: ContextVar[str] = ContextVar("origin", default="internal")


def current_origin() -> str:
    return _origin.get()


@contextmanager
def originating(origin: str) -> Iterator[None]:
    """Within this block, audit entries name ``origin`` as where the action came from."""
    token = _origin.set(origin[:200])
    try:
        yield
    finally:
        _origin.reset(token)
