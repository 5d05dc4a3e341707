"""Retrying a dependency that is not there yet or has gone away (the broker at start-up, the
database during a batch): tenacity with exponential back-off, jitter and one log line per
retry, so every such wait in the runtime behaves and reads the same.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    stop_never,
    wait_exponential_jitter,
)

log = structlog.get_logger(__name__)


def _log_retry(
    message: str, fields: dict[str, object], *, crash: bool
) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait_s = state.next_action.sleep if state.next_action is not None else 0.0
        report = log.error if crash else log.warning
        report(
            message,
            error=repr(error)[:300],
            attempt=state.attempt_number,
            retry_in_s=round(wait_s, 3),
            exc_info=error if crash else None,
            **fields,
        )

    return before_sleep


def retrying(
    message: str,
    *,
    initial_s: float,
    max_s: float,
    give_up_after_s: float | None = None,
    retry_on: Callable[[BaseException], bool] = lambda _exc: True,
    crash: bool = False,
    **log_fields: object,
) -> AsyncRetrying:
    """``async for attempt in retrying(...): with attempt: ...`` retries the block while it
    raises an exception ``retry_on`` accepts (never ``CancelledError``), waiting
    ``initial_s × 2^n`` (at most ``max_s``, plus up to ``initial_s`` of jitter), forever or
    until ``give_up_after_s``; then the last exception is raised. ``crash``: the failure is a
    bug, not an outage: logged as an error, with its traceback."""
    return AsyncRetrying(
        # Exceptions only: a cancellation (BaseException) must end the wait, not restart it.
        retry=retry_if_exception(lambda exc: isinstance(exc, Exception) and retry_on(exc)),
        wait=wait_exponential_jitter(multiplier=initial_s, max=max_s, jitter=initial_s),
        stop=stop_never if give_up_after_s is None else stop_after_delay(give_up_after_s),
        before_sleep=_log_retry(message, log_fields, crash=crash),
        reraise=True,
    )
