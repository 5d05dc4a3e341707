"""Domain errors: what a use case raises when it refuses a request, with what the caller
needs to be told why. They know nothing of HTTP.

Use cases (``service.py``) and pure rules raise these; the one mapping to RFC 9457 problem
documents is :func:`complaint_runtime.problems.install_problem_handlers`, which picks the
status from the error's class (``NotFound`` 404, ``Conflict`` 409, ...). A service refines
them by subclassing, e.g. routing's ``IllegalTransitionError(Conflict)``; ``kind`` becomes
the problem's ``type`` and ``extensions`` its extra members (``state``, ``command``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

FieldLocation = Literal["body", "query", "path", "header", "cookie"]


def field_error(
    field: str,
    detail: str,
    *,
    code: str = "invalid",
    location: FieldLocation = "body",
) -> dict[str, str]:
    """One entry of a problem's ``errors``, shaped like a request validation error: the
    dotted ``field``, a JSON Pointer to it and what is wrong."""
    pointer = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in field.split("."))
    return {"in": location, "field": field, "pointer": pointer, "code": code, "detail": detail}


class DomainError(Exception):
    """A refusal: ``title`` names the kind of refusal, ``detail`` says what happened."""

    default_title: ClassVar[str] = "Request refused"
    default_kind: ClassVar[str] = "refused"

    def __init__(
        self,
        detail: str | None = None,
        *,
        title: str | None = None,
        kind: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail or title or self.default_title)
        self.title = title or self.default_title
        self.detail = detail
        self.kind = kind or self.default_kind
        self.errors = [dict(e) for e in errors] if errors is not None else None
        self.extensions = extensions


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    default_title = "Not found"
    default_kind = "not-found"


class Conflict(DomainError):
    """The request is well-formed but the current state refuses it."""

    default_title = "Conflict"
    default_kind = "conflict"


class InvalidInput(DomainError):
    """The request's values break a rule; ``errors`` name the fields (422)."""

    default_title = "Invalid request"
    default_kind = "validation"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    default_title = "Forbidden"
    default_kind = "forbidden"


class Unauthorized(DomainError):
    """The caller is not known: no credentials, or credentials that do not verify.
    ``challenge`` names the scheme the caller should use (``Bearer``, ``ApiKey ...``)."""

    default_title = "Unauthorized"
    default_kind = "unauthorized"

    def __init__(self, detail: str | None = None, *, challenge: str = "Bearer", **kw: Any):
        super().__init__(detail, **kw)
        self.challenge = challenge


class Gone(DomainError):
    """The thing existed but is no longer usable (an expired link)."""

    default_title = "Gone"
    default_kind = "gone"


class PayloadTooLarge(DomainError):
    default_title = "Payload too large"
    default_kind = "payload-too-large"


class UnsupportedMediaType(DomainError):
    default_title = "Unsupported media type"
    default_kind = "unsupported-media-type"


class NotConfigured(DomainError):
    """The service lacks a setting this request needs (503 until an operator sets it)."""

    default_title = "Not configured"
    default_kind = "not-configured"


class Unavailable(DomainError):
    """Another service this request needs is down or too slow to answer: nothing was done,
    the caller may retry later (503 with Retry-After)."""

    default_title = "Service temporarily unavailable"
    default_kind = "unavailable"
