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

from typing import Final

import structlog
from complaint_customer_web import errorpages
from complaint_customer_web.clients import wants_json
from complaint_customer_web.errorpages import PAGES, PageErrors
from complaint_customer_web.throttle import Verdict
from complaint_runtime.database import is_outage
from complaint_runtime.errors import DomainError, Forbidden, Gone, NotFound
from complaint_runtime.problems import HANDLED_ERRORS, too_many_requests
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest

from feedback.bootstrap import dependencies
from feedback.domain.links import NPS_LINK_PREFIX, SURVEY_LINK_PREFIX, redact_link_paths
from feedback.domain.refusals import SurveyClosed
from feedback.pages import web

log = structlog.get_logger(__name__)

# error → (status, the words of its page); "expired" and "closed" are the page's own.
_PAGES: Final[dict[str, tuple[int, str]]] = {
    **PAGES,
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


def _too_many(request: StarletteRequest, verdict: Verdict) -> Response:
    return too_many_requests(
        request, retry_after_s=verdict.reset_after_s, headers=verdict.headers()
    )


ERRORS: Final = PageErrors(
    is_page_request=is_page_request,
    error_page=error_page,
    kinds=(
        (web.SignedOut, "signed-out"),
        (web.CsrfRefused, "csrf"),
        (SurveyClosed, "closed"),
        (Gone, "expired"),
        (NotFound, "not-found"),
        (Forbidden, "not-found"),
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
