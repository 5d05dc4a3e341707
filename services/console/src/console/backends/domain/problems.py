"""What an upstream refusal means for the console: routing's and sla-watch's RFC 9457
problem documents become the console's domain errors, keeping what a page needs to show
them in place (``detail``, the per-field ``errors``, the problem's kind and members).

- 401: the user's token no longer verifies (expired): :class:`SignInRequired`, the user
  signs in again;
- 403, 404, 409, 422: ``Forbidden``, ``NotFound``, ``Conflict``, ``InvalidInput`` with the
  problem's ``detail``, ``errors`` and kind (the last part of its ``type``, e.g.
  ``illegal-transition``, ``closure-guard``, ``stale-case``) and extension members;
- 5xx, 429, an answer that is not JSON, no answer at all: :class:`BackendUnavailable`
  (the page says to try again; never a 500 of the console's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from complaint_runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)

_STANDARD_MEMBERS: Final = frozenset({"type", "title", "status", "detail", "instance", "errors"})
MAX_DETAIL: Final = 500


class SignInRequired(Unauthorized):
    """No session, an expired one, or a token routing no longer accepts."""

    default_title = "Sign-in required"
    default_kind = "sign-in-required"


class BackendUnavailable(DomainError):
    """routing or sla-watch did not answer usefully (down, overloaded, timed out)."""

    default_title = "Service unavailable"
    default_kind = "backend-unavailable"

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} is unavailable: {reason}", service=service)
        self.service = service


_BY_STATUS: Final[dict[int, type[DomainError]]] = {
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
}


def kind_of(problem: Mapping[str, Any]) -> str | None:
    """``https://.../problems/stale-case`` → ``stale-case``; ``about:blank`` → None."""
    problem_type = problem.get("type")
    if not isinstance(problem_type, str) or "/" not in problem_type:
        return None
    return problem_type.rstrip("/").rsplit("/", 1)[-1] or None


def _errors(problem: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return None
    return [dict(e) for e in errors if isinstance(e, Mapping)]


def _text(value: object) -> str | None:
    return value[:MAX_DETAIL] if isinstance(value, str) and value else None


def error_of(service: str, status: int, problem: Mapping[str, Any] | None) -> DomainError:
    """The domain error for a non-2xx answer of ``service`` (``problem``: its JSON body,
    None when the body was not a JSON object)."""
    if status == 401:
        return SignInRequired("Your sign-in has expired; sign in again.")
    error_class = _BY_STATUS.get(status)
    if error_class is None or problem is None:
        return BackendUnavailable(service, f"HTTP {status}")
    extensions = {k: v for k, v in problem.items() if k not in _STANDARD_MEMBERS}
    extensions.pop("kind", None)
    return error_class(
        _text(problem.get("detail")) or _text(problem.get("title")),
        title=_text(problem.get("title")),
        kind=kind_of(problem),
        errors=_errors(problem),
        **extensions,
    )
