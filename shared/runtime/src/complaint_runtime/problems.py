"""RFC 9457 problem details for every error a service answers, never a bare 500 page.

Validation errors carry one entry per field (``errors[].pointer`` is a JSON Pointer into
the request body, ``errors[].field`` the dotted path), so a front end can mark the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from complaint_runtime.database import is_database_unavailable
from complaint_runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotConfigured,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from complaint_runtime.nul_guard import install_nul_guard

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://docs.opencomplaints.org/problems"


# The one place where a refusal becomes an HTTP status: the nearest class in the error's
# MRO decides, so a service's own subclass (IllegalTransitionError(Conflict)) needs no entry.
STATUS_OF: dict[type, int] = {
    InvalidInput: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    NotConfigured: 503,
    Unavailable: 503,
    DomainError: 400,
}


def status_of(error: DomainError) -> int:
    return next(STATUS_OF[cls] for cls in type(error).__mro__ if cls in STATUS_OF)


class Problem(Exception):
    """Raise from an API module to answer with a problem document (use cases raise
    :class:`~complaint_runtime.errors.DomainError` instead)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        kind: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


class DependencyUnavailable(Exception):
    """The database or broker is down: 503 with Retry-After, the request is not lost."""


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"{TYPE_BASE}/{kind}" if kind else "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else "body"
        path = location[1:] if where in {"body", "query", "path", "header", "cookie"} else location
        errors.append(
            {
                "in": where,
                "field": ".".join(path) or where,
                "pointer": "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path),
                "code": error.get("type", "invalid"),
                "detail": error.get("msg", "invalid value"),
            }
        )
    return errors


# The errors :func:`install_problem_handlers` answers with a problem document of their own
# (a service's customer pages wrap exactly these handlers with pages).
HANDLED_ERRORS: Final = (
    DomainError,
    RequestValidationError,
    StarletteHTTPException,
    DBAPIError,
    OSError,
    TimeoutError,
)


def too_many_requests(
    request: Request, *, retry_after_s: int, headers: Mapping[str, str]
) -> JSONResponse:
    """429 problem+json (``headers``: Retry-After and the RateLimit-* fields)."""
    return problem_response(
        request,
        429,
        "Too many requests",
        f"Try again in {retry_after_s} seconds.",
        kind="too-many-requests",
        headers=dict(headers),
    )


def install_problem_handlers(app: FastAPI, *, retry_after_s: int = 5) -> None:
    """Answer every error with a problem document, and refuse NUL in every request routed
    from now on (422, :mod:`complaint_runtime.nul_guard`): call it before including routers."""
    install_nul_guard(app)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.title,
            exc.detail,
            kind=exc.kind,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        headers = None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": exc.challenge}
        elif isinstance(exc, Unavailable):
            headers = {"Retry-After": str(retry_after_s)}
        return problem_response(
            request,
            status_of(exc),
            exc.title,
            exc.detail,
            kind=exc.kind,
            errors=exc.errors,
            headers=headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        malformed = any(e["code"] in {"json_invalid", "json_type"} for e in errors)
        return problem_response(
            request,
            400 if malformed else 422,
            "Malformed request body" if malformed else "Invalid request",
            "The body is not valid UTF-8 JSON."
            if malformed
            else f"{len(errors)} field(s) failed validation.",
            kind="malformed-body" if malformed else "validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            request,
            exc.status_code,
            _reason(exc.status_code),
            detail,
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable", error=repr(exc)[:300], path=request.url.path)
        return problem_response(
            request,
            503,
            "Service temporarily unavailable",
            "A dependency of this service is unavailable; nothing was stored. Retry later.",
            kind="unavailable",
            headers={"Retry-After": str(retry_after_s)},
        )

    for exc_type in (DependencyUnavailable, OSError, TimeoutError):
        app.add_exception_handler(exc_type, _unavailable)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_database_unavailable(exc):
            return await _unavailable(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            request, 500, "Internal error", "An unexpected error occurred.", kind="internal"
        )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
