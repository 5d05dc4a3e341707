"""How the tracking page talks HTTP: the link cookie, the language, the CSRF token, the
rate limits and rendering a page with what every template uses. The routes
(:mod:`intake.pages.api`) stay a few lines each."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

from complaint_customer_web.catalog import Translator
from complaint_customer_web.cookies import LANGUAGE_COOKIE, LINK_COOKIE, page_cookie, secure_for
from complaint_customer_web.csrf import CSRF_FIELD, csrf_ok, csrf_token
from complaint_customer_web.language import Language, choose_language, is_language
from complaint_customer_web.rendering import language_links
from complaint_customer_web.throttle import Rule, Verdict
from complaint_runtime.errors import Forbidden
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from intake.bootstrap import Dependencies
from intake.pages.domain.throttling import Action, client_of, rate_keys

PAGE_PREFIX: Final = "/c/"
LINK_PREFIX: Final = "/t/"
RECOVER_PREFIX: Final = "/recover"
# The lost-link pages' cookie: a random value naming one browser's recovery flow (its code
# requests are bound to it, and its forms' CSRF tokens), scoped to those pages.
RECOVERY_COOKIE: Final = "complaint_recovery"
RECOVERY_COOKIE_MAX_AGE_S: Final = 3600
_FLOW: Final = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
NO_STORE: Final = {"Cache-Control": "no-store", "Vary": "Cookie, Accept-Language"}


class CsrfRefused(Forbidden):
    """A form without the token of this page's cookie: nothing is applied."""

    default_title = "Form refused"
    default_kind = "csrf"


class SignedOut(Forbidden):
    """The page was opened without the link's cookie (or with a stale one)."""

    default_title = "Open the page from your link"
    default_kind = "signed-out"


class RateLimited(Exception):
    """Too many requests: answered 429 with ``Retry-After`` and ``RateLimit-*``."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("rate limited")
        self.verdict = verdict


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
    response.set_cookie(
        LINK_COOKIE,
        token,
        path=spec.path,
        secure=spec.secure,
        max_age=spec.max_age,
        httponly=spec.httponly,
        samesite=spec.samesite,
    )


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
    response.set_cookie(
        RECOVERY_COOKIE,
        flow or "",
        path=spec.path,
        secure=spec.secure,
        max_age=spec.max_age,
        httponly=spec.httponly,
        samesite=spec.samesite,
    )


def language_of(request: Request, preferred: str | None = None) -> Language:
    """The page's switch (``?lang=``), else the language cookie, else the complaint's
    language, else the browser's."""
    chosen = request.query_params.get("lang")
    if not is_language(chosen):
        chosen = request.cookies.get(LANGUAGE_COOKIE)
    return choose_language(
        chosen=chosen, preferred=preferred, accept_language=request.headers.get("accept-language")
    )


def remember_language(request: Request, response: Response, deps: Dependencies) -> None:
    """A ``?lang=`` choice is kept for the page's later answers (its forms' redirects)."""
    chosen = request.query_params.get("lang")
    if is_language(chosen):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            path=request.url.path,
            secure=secure_for(deps.settings.public_base_url),
            max_age=deps.settings.tracking_cookie_max_age_s,
            httponly=True,
            samesite="lax",
        )


def csrf_for(deps: Dependencies, token: str) -> str:
    return csrf_token(deps.web.csrf_key, bound_to=token)


async def form_of(request: Request, deps: Dependencies, token: str) -> Mapping[str, str]:
    """The posted form's text fields, once its CSRF token proved it came from this page."""
    form = await request.form()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    if not csrf_ok(deps.web.csrf_key, bound_to=token, submitted=fields.get(CSRF_FIELD)):
        raise CsrfRefused("This form did not come from your page, or the page is too old.")
    return fields


def new_submission_key() -> str:
    """The random key of one rendering of a form (its repeat is recognised)."""
    return secrets.token_urlsafe(18)


async def throttle(request: Request, deps: Dependencies, action: Action, link: str) -> Verdict:
    """Count the request; ``RateLimited`` when a limit of the action is exhausted."""
    client = client_of(request.client.host if request.client else None)
    rules = [
        Rule(deps.web.rate_limits[name], key)
        for name, key in rate_keys(action, link=link, client=client)
    ]
    verdict = await deps.web.throttle.check(rules)
    if not verdict.allowed:
        raise RateLimited(verdict)
    return verdict


def translator(deps: Dependencies, language: Language) -> Translator:
    return Translator(deps.web.catalog, language)


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
    links = language_links(language, lambda lang: f"{path}?lang={lang}") if path else []
    html = deps.web.pages.render(
        template,
        {
            "tr": translator(deps, language),
            "language_links": links,
            "csrf_field": CSRF_FIELD,
            **context,
        },
    )
    return HTMLResponse(html, status_code=status_code, headers={**NO_STORE, **(headers or {})})


def see_other(location: str, verdict: Verdict | None = None) -> RedirectResponse:
    """Post/Redirect/Get: the answer to a form is a redirect to a page."""
    headers = {**NO_STORE, **(verdict.headers() if verdict else {})}
    return RedirectResponse(location, status_code=303, headers=headers)
