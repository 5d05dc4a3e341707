"""How the survey and NPS pages talk HTTP: the link cookie, the link's claims, the
language, the CSRF token, the rate limits and rendering a page with what every template
uses. The routes (:mod:`feedback.surveys.api`, :mod:`feedback.nps.api`) stay a few lines
each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from complaint_customer_web import web as shared
from complaint_customer_web.catalog import Translator
from complaint_customer_web.clients import client_of
from complaint_customer_web.cookies import LINK_COOKIE, page_cookie
from complaint_customer_web.language import Language
from complaint_customer_web.throttle import Verdict
from complaint_customer_web.times import format_time, zone_label, zone_of
from complaint_customer_web.web import NO_STORE as NO_STORE
from complaint_customer_web.web import RateLimited as RateLimited
from complaint_customer_web.web import see_other as see_other
from complaint_runtime.errors import DomainError, Forbidden
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from feedback.bootstrap import Dependencies
from feedback.domain.links import ExpiredLink, InvalidLink, LinkClaims, verify_link_token
from feedback.pages.domain.throttling import Action, link_of_token, rate_keys

PAGE_PREFIXES: Final = ("/survey/", "/nps/")
MIN_COOKIE_S: Final = 60


class CsrfRefused(Forbidden):
    """A form without the token of this page's cookie: nothing is applied."""

    default_title = "Form refused"
    default_kind = "csrf"


class SignedOut(Forbidden):
    """The page was opened without the link's cookie."""

    default_title = "Open the page from your link"
    default_kind = "signed-out"


def link_token(request: Request) -> str:
    """The link's token from the page's cookie (scoped to this one page)."""
    token = request.cookies.get(LINK_COOKIE)
    if not token:
        raise SignedOut("Open this page from the link in your message.")
    return token


def link_claims(
    request: Request,
    deps: Dependencies,
    token: str,
    *,
    audience: str,
    not_found: type[DomainError],
    expired: type[DomainError],
    request_id: str | None = None,
) -> LinkClaims:
    """The claims of a genuine link for this page: a forged, tampered or foreign token is
    ``not_found``, an expired one ``expired`` (each a friendly page in the link's
    language, which the claims carry)."""
    try:
        claims = verify_link_token(
            token, secret=deps.link_secret, now=datetime.now(UTC), audience=audience
        )
    except ExpiredLink as exc:
        if exc.claims is not None:
            request.state.page_language = exc.claims.language
        raise expired() from exc
    except InvalidLink as exc:
        raise not_found() from exc
    if request_id is not None and claims.request_id != request_id:
        raise not_found()
    request.state.page_language = claims.language
    return claims


def set_link_cookie(
    response: Response, deps: Dependencies, *, path: str, claims: LinkClaims, token: str
) -> None:
    """The token in an HttpOnly cookie scoped to the page, kept as long as the link
    works."""
    remaining = int((claims.expires_at - datetime.now(UTC)).total_seconds())
    spec = page_cookie(
        public_base_url=deps.settings.public_base_url,
        path=path,
        max_age=max(MIN_COOKIE_S, remaining),
    )
    shared.set_page_cookie(response, LINK_COOKIE, token, spec)


def language_of(request: Request, preferred: str | None = None) -> Language:
    """The page's switch (``?lang=``), else the language cookie, else the customer's
    language (the request's, else the link's), else the browser's."""
    if preferred is None:
        preferred = getattr(request.state, "page_language", None)
    return shared.language_of(request, preferred)


def remember_language(request: Request, response: Response, deps: Dependencies) -> None:
    """A ``?lang=`` choice is kept for the page's later answers (its forms' redirects)."""
    shared.remember_language(
        request, response, public_base_url=deps.settings.public_base_url, max_age=30 * 86_400
    )


def csrf_for(deps: Dependencies, token: str) -> str:
    return shared.csrf_for(deps.web, token)


async def form_of(request: Request, deps: Dependencies, token: str) -> Mapping[str, str]:
    """The posted form's text fields, once its CSRF token proved it came from this page."""
    fields = await shared.checked_form(request, deps.web, token)
    if fields is None:
        raise CsrfRefused("This form did not come from your page, or the page is too old.")
    return fields


async def throttle(request: Request, deps: Dependencies, action: Action, link: str) -> Verdict:
    """Count the request; ``RateLimited`` when a limit of the action is exhausted."""
    client = client_of(request.client.host if request.client else None)
    return await shared.throttle(deps.web, rate_keys(action, link=link, client=client))


async def throttle_link(
    request: Request, deps: Dependencies, action: Action, token: str
) -> Verdict:
    """Count a request made with a link's token itself (the JSON API): under the survey's
    request id, the page's key, so the API and the page share one count, or, for a token
    that names none (forged, tampered), under its hash."""
    return await throttle(request, deps, action, _link_of(deps, token))


def _link_of(deps: Dependencies, token: str) -> str:
    try:
        return verify_link_token(token, secret=deps.link_secret, now=datetime.now(UTC)).request_id
    except ExpiredLink as exc:
        return exc.claims.request_id if exc.claims else link_of_token(token)
    except InvalidLink:
        return link_of_token(token)


def clock(deps: Dependencies, language: Language) -> Callable[[datetime], str]:
    """Times in the organisation's zone, in the page's words."""
    zone = zone_of(deps.settings.organisation_timezone)
    return lambda moment: format_time(moment, zone, language)


def zone_text(deps: Dependencies) -> str:
    return zone_label(zone_of(deps.settings.organisation_timezone), datetime.now(UTC))


def translator(deps: Dependencies, language: Language) -> Translator:
    return shared.translator(deps.web, language)


def render(
    request: Request,
    deps: Dependencies,
    template: str,
    context: Mapping[str, Any],
    *,
    language: Language,
    page_path: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page with the translator, the language switch (links to the page with
    ``?lang=``) and the CSRF field's name; never cached (it is one customer's)."""
    path = page_path or (request.url.path if request.method == "GET" else None)
    return shared.render(
        deps.web,
        template,
        context,
        language=language,
        path=path,
        status_code=status_code,
        headers=headers,
    )
