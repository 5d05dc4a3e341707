"""The tracking page's refusals and failures as pages: a browser that opens a customer page
never gets a JSON problem document. Requests of the pages (``/t/...`` asked for HTML, and
``/c/...``) get a friendly page in the customer's language; every other request keeps the
runtime's problem+json answers, whose handlers this wraps rather than replaces.

- unknown, rotated or tampered link, unknown complaint: 404 "this link does not work";
- no link cookie: 403 "open the page from your link" (both offer the lost-link page,
  ``/recover``);
- a form without this page's CSRF token: 403 "this page has expired", nothing applied;
- too many requests: 429 with ``Retry-After`` and ``RateLimit-*`` (JSON too);
- the database down: 503 with ``Retry-After``; a bug: 500, logged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from complaint_runtime.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from complaint_runtime.problems import problem_response
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.bootstrap import dependencies
from intake.complaints.domain.tracking import redact_link_paths
from intake.pages import web

log = structlog.get_logger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]
Previous = Callable[[Request, Any], Response | Awaitable[Response]]
# error → (status, the words of its page)
_PAGES: Final[dict[str, tuple[int, str]]] = {
    "not-found": (404, "error.not_found"),
    "signed-out": (403, "error.signed_out"),
    "csrf": (403, "error.form_expired"),
    "too-many": (429, "error.too_many"),
    "invalid": (422, "error.invalid"),
    "unavailable": (503, "error.unavailable"),
    "internal": (500, "error.internal"),
}

# A link that does not work, or a page opened without it: the way out is the lost-link page.
_LOST_LINK: Final = frozenset({"not-found", "signed-out"})


def wants_json(request: Request) -> bool:
    """A front end asking ``/t/{token}`` for the JSON view (content negotiation)."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def is_page_request(request: Request) -> bool:
    path = request.url.path
    if path.startswith((web.PAGE_PREFIX, web.RECOVER_PREFIX)):
        return True
    return path.startswith(web.LINK_PREFIX) and not wants_json(request)


def error_page(
    request: Request, kind: str, *, headers: dict[str, str] | None = None, seconds: int = 0
) -> HTMLResponse:
    deps = dependencies(request)
    status, key = _PAGES[kind]
    language = web.language_of(request)
    help_link = None
    if kind in _LOST_LINK:
        label = web.translator(deps, language).t("recover.lost_link")
        help_link = {"href": web.RECOVER_PREFIX, "label": label}
    return web.render(
        request,
        deps,
        "customer/error.html",
        {
            "error_key": key,
            "values": {"seconds": seconds},
            "detail": None,
            "back_href": None,
            "help_link": help_link,
        },
        language=language,
        status_code=status,
        headers=headers,
    )


def _kind_of(exc: Exception) -> str:
    for error_class, kind in (
        (web.SignedOut, "signed-out"),
        (web.CsrfRefused, "csrf"),
        (NotFound, "not-found"),
        (Forbidden, "not-found"),
        (Conflict, "invalid"),
        (InvalidInput, "invalid"),
        (DomainError, "invalid"),
        (StarletteHTTPException, "not-found"),
        (RequestValidationError, "not-found"),
    ):
        if isinstance(exc, error_class):
            return kind
    return "unavailable" if _is_outage(exc) else "internal"


def _is_outage(exc: Exception) -> bool:
    from complaint_runtime.database import is_database_unavailable

    if isinstance(exc, DBAPIError):
        return is_database_unavailable(exc)
    return isinstance(exc, OSError | TimeoutError)


def _paged(previous: Previous) -> Handler:
    """Pages get their page; everything else the runtime's answer."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not is_page_request(request):
            answer = previous(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        kind = _kind_of(exc)
        if kind == "internal":
            log.exception(
                "page failed", path=redact_link_paths(request.url.path), error=type(exc).__name__
            )
        headers = None
        if kind == "unavailable":
            headers = {"Retry-After": str(dependencies(request).settings.retry_after_s)}
        return error_page(request, kind, headers=headers)

    return handle


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, web.RateLimited)  # noqa: S101 - registered for this class only
    verdict = exc.verdict
    if is_page_request(request):
        return error_page(
            request, "too-many", headers=verdict.headers(), seconds=verdict.reset_after_s
        )
    return problem_response(
        request,
        429,
        "Too many requests",
        f"Try again in {verdict.reset_after_s} seconds.",
        kind="too-many-requests",
        headers=verdict.headers(),
    )


def install_page_errors(app: FastAPI) -> None:
    """Wrap the runtime's handlers (installed by ``build_app``) for the pages' requests."""
    for exc_class in (
        DomainError,
        RequestValidationError,
        StarletteHTTPException,
        DBAPIError,
        OSError,
        TimeoutError,
    ):
        previous = app.exception_handlers.get(exc_class)
        if previous is not None:
            app.exception_handlers[exc_class] = _paged(previous)
    app.exception_handlers[web.RateLimited] = _rate_limited


class UnexpectedErrorPage:
    """A bug on a page: the runtime's request middleware would answer it with a JSON
    problem before Starlette's handler for ``Exception`` runs, so pages catch it here,
    innermost, and draw their own. Other requests pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_request(StarletteRequest(scope)):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            kind = "unavailable" if _is_outage(exc) else "internal"
            log.exception("page failed", path=redact_link_paths(str(scope.get("path", ""))))
            request = StarletteRequest(scope, receive)
            await error_page(request, kind)(scope, receive, send)
