"""How the tracking page talks HTTP: the link cookie, the language, the CSRF token, the
rate limits and rendering a page with what every template uses. The routes
(:mod:`intake.pages.api`) stay a few lines each."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

from complaint_customer_web import web as shared
from complaint_customer_web.catalog import Translator
from complaint_customer_web.clients import client_of
from complaint_customer_web.cookies import LINK_COOKIE, page_cookie
from complaint_customer_web.language import Language
from complaint_customer_web.throttle import Verdict
from complaint_customer_web.web import NO_STORE as NO_STORE
from complaint_customer_web.web import RateLimited as RateLimited
from complaint_customer_web.web import see_other as see_other
from complaint_runtime.errors import Forbidden
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from intake.bootstrap import Dependencies
from intake.pages.domain.throttling import Action, rate_keys

PAGE_PREFIX: Final = "/c/"
LINK_PREFIX: Final = "/t/"
RECOVER_PREFIX: Final = "/recover"
# The lost-link pages' cookie: a random value naming one browser's recovery flow (its code
# requests are bound to it, and its forms' CSRF tokens), scoped to those pages.
RECOVERY_COOKIE: Final = "complaint_recovery"
RECOVERY_COOKIE_MAX_AGE_S: Final = 3600
_FLOW: Final = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class CsrfRefused(Forbidden):
    """A form without the token of this page's cookie: nothing is applied."""

    default_title = "Form refused"
    default_kind = "csrf"


class SignedOut(Forbidden):
    """The page was opened without the link's cookie (or with a stale one)."""

    default_title = "Open the page from your link"
    default_kind = "signed-out"


def page_path(complaint_id: str) -> str:
    return f"{PAGE_PREFIX}{complaint_id}"


def link_token(request: Request) -> str:
    """The link's token from the page's cookie (scoped to this complaint's path)."""
    token = request.cookies.get(LINK_COOKIE)
    if not token:
        raise SignedOut("Open this page from the link in your message.")
    return token


def set_link_cookie(response: Response, deps: Dependencies, complaint_id: str, token: str) -> None:
    spec = page_cookie(
        public_base_url=deps.settings.public_base_url,
        path=page_path(complaint_id),
        max_age=deps.settings.tracking_cookie_max_age_s,
    )
    shared.set_page_cookie(response, LINK_COOKIE, token, spec)


def recovery_flow(request: Request) -> str | None:
    """The browser's recovery flow from its cookie (None: none, or not one of ours)."""
    flow = request.cookies.get(RECOVERY_COOKIE)
    return flow if flow and _FLOW.match(flow) else None


def new_recovery_flow() -> str:
    return secrets.token_urlsafe(24)


def recovery_binding(flow: str) -> str:
    """What the lost-link forms' CSRF tokens are bound to (never a link's token)."""
    return f"recovery:{flow}"


def set_recovery_cookie(response: Response, deps: Dependencies, flow: str | None) -> None:
    """Set the flow's cookie, or (``None``) drop it once the link is recovered."""
    spec = page_cookie(
        public_base_url=deps.settings.public_base_url,
        path=RECOVER_PREFIX,
        max_age=RECOVERY_COOKIE_MAX_AGE_S if flow else 0,
    )
    shared.set_page_cookie(response, RECOVERY_COOKIE, flow or "", spec)


def language_of(request: Request, preferred: str | None = None) -> Language:
    """The page's switch (``?lang=``), else the language cookie, else the complaint's
    language, else the browser's."""
    return shared.language_of(request, preferred)


def remember_language(request: Request, response: Response, deps: Dependencies) -> None:
    """A ``?lang=`` choice is kept for the page's later answers (its forms' redirects)."""
    shared.remember_language(
        request,
        response,
        public_base_url=deps.settings.public_base_url,
        max_age=deps.settings.tracking_cookie_max_age_s,
    )


def csrf_for(deps: Dependencies, token: str) -> str:
    return shared.csrf_for(deps.web, token)


async def form_of(request: Request, deps: Dependencies, token: str) -> Mapping[str, str]:
    """The posted form's text fields, once its CSRF token proved it came from this page."""
    fields = await shared.checked_form(request, deps.web, token)
    if fields is None:
        raise CsrfRefused("This form did not come from your page, or the page is too old.")
    return fields


def new_submission_key() -> str:
    """The random key of one rendering of a form (its repeat is recognised)."""
    return secrets.token_urlsafe(18)


async def throttle(request: Request, deps: Dependencies, action: Action, link: str) -> Verdict:
    """Count the request; ``RateLimited`` when a limit of the action is exhausted."""
    client = client_of(request.client.host if request.client else None)
    return await shared.throttle(deps.web, rate_keys(action, link=link, client=client))


def translator(deps: Dependencies, language: Language) -> Translator:
    return shared.translator(deps.web, language)


def render(
    request: Request,
    deps: Dependencies,
    template: str,
    context: Mapping[str, Any],
    *,
    language: Language,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page with the translator, the language switch (links to this address with
    ``?lang=``) and the CSRF field's name; never cached (it shows a complaint)."""
    path = request.url.path if request.method == "GET" else context.get("page_path")
    return shared.render(
        deps.web,
        template,
        context,
        language=language,
        path=path,
        status_code=status_code,
        headers=headers,
    )
