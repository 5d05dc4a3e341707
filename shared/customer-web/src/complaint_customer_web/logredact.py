"""Secrets in request paths kept out of the logs. A customer's link carries its secret in
the path (``/t/<token>``); uvicorn's access log, the runtime's "unhandled error" line and
any library that logs a URL would write it out. A filter on the log handlers rewrites
every record (its message, its arguments and, for structlog's records, the event dict's
values) with the service's ``redact`` function before it is formatted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

Redact = Callable[[str], str]
ACCESS_LOGGERS: Final = ("uvicorn.access", "uvicorn.error", "uvicorn")


def _redacted(value: Any, redact: Redact) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_redacted(item, redact) for item in value)
    if isinstance(value, list):
        return [_redacted(item, redact) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Rewrites a record in place; never drops one."""

    def __init__(self, redact: Redact) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            # Formatted here: an argument may be an object (a URL) whose text holds it.
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                message = str(record.msg)
            record.msg, record.args = self.redact(message), ()
        else:
            record.msg = _redacted(record.msg, self.redact)
            if record.args:
                record.args = _redacted(record.args, self.redact)
        return True


def install_redaction(redact: Redact) -> RedactingFilter:
    """On the root logger's handlers (everything the service formats) and on uvicorn's
    loggers (whose access log has handlers of its own and does not propagate)."""
    redacting = RedactingFilter(redact)
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        targets += [logger, *logger.handlers]
    for target in targets:
        # Once per target: an app factory called again (tests) adds no second filter.
        if not any(_same(existing, redact) for existing in target.filters):
            target.addFilter(redacting)
    return redacting


def _same(existing: object, redact: Redact) -> bool:
    return isinstance(existing, RedactingFilter) and existing.redact is redact
