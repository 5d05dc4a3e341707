"""The pages' refusals and failures as pages: a browser that opens a survey or NPS link
never gets a JSON problem document. Requests of the pages (``/s/…`` and ``/n/…`` asked for
HTML, ``/survey/…`` and ``/nps/…``) get a friendly page in the customer's language; every
other request (the JSON API, notify's internal API) keeps the runtime's problem+json
answers, whose handlers this wraps rather than replaces.

- forged, tampered or unknown link: 404 "this link does not work";
- expired link: 410 "this survey has expired" (its own words for the survey and NPS);
- a survey a newer one replaced, or whose complaint closed otherwise: 410 "closed";
- no link cookie: 403 "open the page from your link";
- a form without this page's CSRF token: 403 "this page has expired", nothing applied;
- too many requests: 429 with ``Retry-After`` and ``RateLimit-*`` (problem+json for JSON);
- the database down: 503 with ``Retry-After``; a bug: 500, logged (the token redacted).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from complaint_customer_web.clients import wants_json
from complaint_runtime.errors import DomainError, Forbidden, Gone, NotFound
from complaint_runtime.problems import problem_response
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedback.bootstrap import dependencies
from feedback.domain.links import NPS_LINK_PREFIX, SURVEY_LINK_PREFIX, redact_link_paths
from feedback.domain.refusals import SurveyClosed
from feedback.pages import web

log = structlog.get_logger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]
Previous = Callable[[Request, Any], Response | Awaitable[Response]]
# error → (status, the words of its page); "expired" and "closed" are the page's own.
_PAGES: Final[dict[str, tuple[int, str]]] = {
    "not-found": (404, "error.not_found"),
    "signed-out": (403, "error.signed_out"),
    "csrf": (403, "error.form_expired"),
    "too-many": (429, "error.too_many"),
    "invalid": (422, "error.invalid"),
    "unavailable": (503, "error.unavailable"),
    "internal": (500, "error.internal"),
    "expired": (410, "survey.expired"),
    "closed": (410, "survey.closed"),
}


def is_page_request(request: StarletteRequest) -> bool:
    path = request.url.path
    if path.startswith(web.PAGE_PREFIXES):
        return True
    link = path.startswith((SURVEY_LINK_PREFIX, NPS_LINK_PREFIX))
    return link and not wants_json(request.headers.get("accept"))


def _is_nps(request: StarletteRequest) -> bool:
    return request.url.path.startswith(("/nps/", NPS_LINK_PREFIX))


def error_page(
    request: StarletteRequest,
    kind: str,
    *,
    headers: dict[str, str] | None = None,
    seconds: int = 0,
) -> HTMLResponse:
    deps = dependencies(request)
    status, key = _PAGES[kind]
    if kind == "expired" and _is_nps(request):
        key = "nps.expired"
    language = web.language_of(request)
    return web.render(
        request,
        deps,
        "customer/error.html",
        {"error_key": key, "values": {"seconds": seconds}, "detail": None, "back_href": None},
        language=language,
        status_code=status,
        headers=headers,
    )


def _kind_of(exc: Exception) -> str:
    for error_class, kind in (
        (web.SignedOut, "signed-out"),
        (web.CsrfRefused, "csrf"),
        (SurveyClosed, "closed"),
        (Gone, "expired"),
        (NotFound, "not-found"),
        (Forbidden, "not-found"),
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
    if not isinstance(exc, web.RateLimited):  # registered for this class only
        raise exc
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
