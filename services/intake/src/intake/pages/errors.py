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

from typing import Final

import structlog
from complaint_customer_web import errorpages
from complaint_customer_web.clients import wants_json as _wants_json
from complaint_customer_web.errorpages import PAGES, PageErrors
from complaint_customer_web.throttle import Verdict
from complaint_runtime.database import is_outage
from complaint_runtime.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from complaint_runtime.problems import HANDLED_ERRORS, too_many_requests
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from intake.bootstrap import dependencies
from intake.complaints.domain.tracking import redact_link_paths
from intake.pages import web

log = structlog.get_logger(__name__)

# A link that does not work, or a page opened without it: the way out is the lost-link page.
_LOST_LINK: Final = frozenset({"not-found", "signed-out"})


def wants_json(request: Request) -> bool:
    """A front end asking ``/t/{token}`` for the JSON view (content negotiation)."""
    return _wants_json(request.headers.get("accept", ""))


def is_page_request(request: Request) -> bool:
    path = request.url.path
    if path.startswith((web.PAGE_PREFIX, web.RECOVER_PREFIX)):
        return True
    return path.startswith(web.LINK_PREFIX) and not wants_json(request)


def error_page(
    request: Request, kind: str, *, headers: dict[str, str] | None = None, seconds: int = 0
) -> HTMLResponse:
    deps = dependencies(request)
    status, key = PAGES[kind]
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


def _too_many(request: Request, verdict: Verdict) -> Response:
    return too_many_requests(
        request, retry_after_s=verdict.reset_after_s, headers=verdict.headers()
    )


ERRORS: Final = PageErrors(
    is_page_request=is_page_request,
    error_page=error_page,
    kinds=(
        (web.SignedOut, "signed-out"),
        (web.CsrfRefused, "csrf"),
        (NotFound, "not-found"),
        (Forbidden, "not-found"),
        (Conflict, "invalid"),
        (InvalidInput, "invalid"),
        (DomainError, "invalid"),
        (StarletteHTTPException, "not-found"),
        (RequestValidationError, "not-found"),
    ),
    is_outage=is_outage,
    redact=redact_link_paths,
    retry_after_s=lambda request: dependencies(request).settings.retry_after_s,
    too_many=_too_many,
    log=log,
)


def install_page_errors(app: FastAPI) -> None:
    """Wrap the runtime's handlers (installed by ``build_app``) for the pages' requests."""
    errorpages.install_page_errors(app, ERRORS, HANDLED_ERRORS)


class UnexpectedErrorPage(errorpages.UnexpectedErrorPage):
    errors = ERRORS
