"""Error pages: every refusal and failure becomes a page in the reader's language (or, for
an htmx request, a notice in the part of the page it refreshes), never a bare 500 or a
JSON problem. Replaces the runtime's problem+json handlers for the console's pages.

- no session, or routing no longer accepts the user's token: to the sign-in page;
- a forged or missing CSRF token, a page for leads only: 403;
- an unknown case, or a case of another team (routing answers 404 for both): 404;
- routing or sla-watch down, timing out, answering 5xx: 503 "try again", with Retry-After.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

import structlog
from complaint_runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotConfigured,
    NotFound,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.backends.domain.problems import BackendUnavailable, SignInRequired
from console.bootstrap import dependencies
from console.web.session import CsrfRefused, is_htmx, render, session_user, wants_fragment

log = structlog.get_logger(__name__)

SIGN_IN: Final = "/signin"
# error kind → (status, catalog key of its title and text)
_PAGES: Final[dict[str, tuple[int, str]]] = {
    "csrf": (403, "error.csrf"),
    "forbidden": (403, "error.forbidden"),
    "not-found": (404, "error.not_found"),
    "conflict": (409, "error.conflict"),
    "invalid": (422, "error.invalid"),
    "unavailable": (503, "error.unavailable"),
    "internal": (500, "error.internal"),
}


def _kind_of(exc: DomainError) -> str:
    for error_class, kind in (
        (CsrfRefused, "csrf"),
        (Forbidden, "forbidden"),
        (NotFound, "not-found"),
        (Conflict, "conflict"),
        (InvalidInput, "invalid"),
        (BackendUnavailable, "unavailable"),
        (NotConfigured, "unavailable"),
    ):
        if isinstance(exc, error_class):
            return kind
    return "invalid"


def error_page(request: Request, kind: str, *, detail: str | None = None) -> HTMLResponse:
    deps = dependencies(request)
    status, key = _PAGES[kind]
    template = "partials/error_notice.html" if wants_fragment(request) else "error.html"
    response = render(
        request,
        deps,
        template,
        {"error_key": key, "status": status, "detail": detail, "kind": kind},
        status_code=status,
        user=session_user(request, deps),
    )
    if status == 503:
        response.headers["Retry-After"] = str(deps.settings.retry_after_s)
    return response


def to_sign_in(request: Request) -> Response:
    """A page request goes to the sign-in page and comes back afterwards; htmx is told to
    load the sign-in page instead of swapping a fragment."""
    back = request.url.path if request.method == "GET" else "/"
    target = f"{SIGN_IN}?next={quote(back, safe='/')}"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, SignInRequired):
            return to_sign_in(request)
        if isinstance(exc, BackendUnavailable):
            log.warning("page failed: backend unavailable", service=exc.service)
        return error_page(request, _kind_of(exc), detail=_shown_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        kinds = {403: "forbidden", 404: "not-found", 405: "not-found", 503: "unavailable"}
        return error_page(request, kinds.get(exc.status_code, "invalid"))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, _exc: RequestValidationError) -> Response:
        return error_page(request, "invalid")

    async def _unavailable(request: Request, exc: Exception) -> Response:
        log.warning("page failed: dependency unavailable", error=repr(exc)[:300])
        return error_page(request, "unavailable")

    # The console's own database (live updates) failing is an outage too, like the runtime's
    # handlers treat it; a page never shows a bare 500 for it.
    for exc_type in (OSError, TimeoutError, DBAPIError):
        app.add_exception_handler(exc_type, _unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        return error_page(request, "internal")


class UnexpectedErrorPage:
    """A bug's page: the runtime's request middleware answers an unexpected error with a
    JSON problem before Starlette's outermost handler sees it, so the console catches it
    innermost (inside the session) and draws its own page. An error after the answer
    started cannot be drawn over and goes on as it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            if started:
                raise
            log.exception("unhandled error", path=scope.get("path", ""))
            response = error_page(StarletteRequest(scope, receive), "internal")
            await response(scope, receive, send)


def _shown_detail(exc: DomainError) -> str | None:
    """Routing's own words for a refusal a user can act on (a conflict, a bad value);
    the standard pages say enough for the rest."""
    return exc.detail if isinstance(exc, Conflict | InvalidInput) else None
