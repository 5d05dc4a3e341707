"""Refusals and failures of customer pages as pages: a browser that opens a customer page
never gets a JSON problem document. A service says which requests are its pages, which
error is which page and how it draws one; :func:`install_page_errors` wraps the service's
existing handlers (the runtime's problem+json answers) so that every other request keeps
them, and :class:`UnexpectedErrorPage` catches a bug on a page before the runtime's request
middleware turns it into JSON.

- a page's error: the service's page for its kind (``_kind_of``: the first matching class);
- too many requests: 429 with ``Retry-After`` and ``RateLimit-*`` (the service's answer for
  other requests);
- an outage: 503 with ``Retry-After``; a bug: 500, logged with the path redacted.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from complaint_customer_web.throttle import Verdict
from complaint_customer_web.web import RateLimited

# error → (status, the words of its page); a service adds its own kinds.
PAGES: Final[Mapping[str, tuple[int, str]]] = {
    "not-found": (404, "error.not_found"),
    "signed-out": (403, "error.signed_out"),
    "csrf": (403, "error.form_expired"),
    "too-many": (429, "error.too_many"),
    "invalid": (422, "error.invalid"),
    "unavailable": (503, "error.unavailable"),
    "internal": (500, "error.internal"),
}

Handler = Callable[[Request, Exception], Awaitable[Response]]
Previous = Callable[[Request, Any], Response | Awaitable[Response]]


class Log(Protocol):
    def exception(self, event: str, /, **values: Any) -> Any: ...


class ErrorPage(Protocol):
    def __call__(
        self,
        request: Request,
        kind: str,
        *,
        headers: dict[str, str] | None = None,
        seconds: int = 0,
    ) -> Response: ...


@dataclass(frozen=True)
class PageErrors:
    """What differs between services' pages."""

    is_page_request: Callable[[Request], bool]
    error_page: ErrorPage
    kinds: Sequence[tuple[type[BaseException], str]]
    """Which error is which page, the first match wins; else an outage or a bug."""
    is_outage: Callable[[BaseException], bool]
    redact: Callable[[str], str]
    """Rewrites secrets (a link's token) out of a path before it is logged."""
    retry_after_s: Callable[[Request], int]
    too_many: Callable[[Request, Verdict], Response]
    """The 429 of a request that is not a page's (a problem document)."""
    log: Log

    def kind_of(self, exc: BaseException) -> str:
        for error_class, kind in self.kinds:
            if isinstance(exc, error_class):
                return kind
        return "unavailable" if self.is_outage(exc) else "internal"

    def paged(self, previous: Previous) -> Handler:
        """Pages get their page; everything else the previous handler's answer."""

        async def handle(request: Request, exc: Exception) -> Response:
            if not self.is_page_request(request):
                answer = previous(request, exc)
                return await answer if inspect.isawaitable(answer) else answer
            kind = self.kind_of(exc)
            if kind == "internal":
                self.log.exception(
                    "page failed", path=self.redact(request.url.path), error=type(exc).__name__
                )
            headers = None
            if kind == "unavailable":
                headers = {"Retry-After": str(self.retry_after_s(request))}
            return self.error_page(request, kind, headers=headers)

        return handle

    async def rate_limited(self, request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RateLimited):  # registered for this class only
            raise exc
        verdict = exc.verdict
        if self.is_page_request(request):
            return self.error_page(
                request, "too-many", headers=verdict.headers(), seconds=verdict.reset_after_s
            )
        return self.too_many(request, verdict)


def install_page_errors(
    app: Starlette, errors: PageErrors, wrapped: Sequence[type[BaseException]]
) -> None:
    """Wrap the handlers already installed for ``wrapped`` (the runtime's) for the pages'
    requests, and answer ``RateLimited``."""
    for exc_class in wrapped:
        previous = app.exception_handlers.get(exc_class)
        if previous is not None:
            app.exception_handlers[exc_class] = errors.paged(previous)
    app.exception_handlers[RateLimited] = errors.rate_limited


class UnexpectedErrorPage:
    """A bug on a page: the runtime's request middleware would answer it with a JSON
    problem before Starlette's handler for ``Exception`` runs, so pages catch it here,
    innermost, and draw their own. Other requests pass through untouched. A service
    subclasses it with its ``errors``."""

    errors: PageErrors

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        errors = self.errors
        if scope["type"] != "http" or not errors.is_page_request(Request(scope)):
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
            kind = "unavailable" if errors.is_outage(exc) else "internal"
            errors.log.exception("page failed", path=errors.redact(str(scope.get("path", ""))))
            request = Request(scope, receive)
            await errors.error_page(request, kind)(scope, receive, send)
