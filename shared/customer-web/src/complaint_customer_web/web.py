"""How a service's customer pages talk HTTP (Starlette), the parts every service does alike:
the language of a request and the kept ``?lang=`` choice, a page's cookie, the CSRF-checked
form, counting a request against the rate limits, rendering a page with what every
template uses, and Post/Redirect/Get. A service keeps what is its own (its paths, its
link's cookie lifetime, its refusals as its runtime's errors) in a few lines around these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

from limits import RateLimitItem
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from complaint_customer_web.catalog import Catalog, Translator
from complaint_customer_web.cookies import LANGUAGE_COOKIE, CookieSpec, secure_for
from complaint_customer_web.csrf import CSRF_FIELD, csrf_ok, csrf_token
from complaint_customer_web.language import Language, choose_language, is_language
from complaint_customer_web.rendering import CustomerPages, language_links
from complaint_customer_web.throttle import Rule, Throttle, Verdict

NO_STORE: Final = {"Cache-Control": "no-store", "Vary": "Cookie, Accept-Language"}
_SECONDS: Final = {"type": "integer", "minimum": 0}
RATE_LIMIT_HEADERS: Final[dict[str, dict[str, Any]]] = {
    "Retry-After": {"description": "Seconds until a request may succeed", "schema": _SECONDS},
    "RateLimit-Limit": {"description": "Requests allowed in the window", "schema": _SECONDS},
    "RateLimit-Remaining": {"description": "Requests left in the window", "schema": _SECONDS},
    "RateLimit-Reset": {"description": "Seconds until the window frees", "schema": _SECONDS},
    "RateLimit-Policy": {
        "description": "`<limit>;w=<window seconds>`",
        "schema": {"type": "string"},
    },
}
"""The headers of a 429, as an OpenAPI response documents them (a JSON endpoint that counts
against the pages' limits)."""


class PageKit(Protocol):
    """What a service builds once for its pages (its ``CustomerWeb``)."""

    @property
    def pages(self) -> CustomerPages: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def throttle(self) -> Throttle: ...
    @property
    def rate_limits(self) -> Mapping[str, RateLimitItem]: ...
    @property
    def csrf_key(self) -> bytes: ...


class RateLimited(Exception):
    """Too many requests: answered 429 with ``Retry-After`` and ``RateLimit-*``."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("rate limited")
        self.verdict = verdict


def set_page_cookie(response: Response, name: str, value: str, spec: CookieSpec) -> None:
    response.set_cookie(name, value, **spec.attributes())


def language_of(request: Request, preferred: str | None = None) -> Language:
    """The page's switch (``?lang=``), else the language cookie, else ``preferred`` (the
    customer's), else the browser's."""
    chosen = request.query_params.get("lang")
    if not is_language(chosen):
        chosen = request.cookies.get(LANGUAGE_COOKIE)
    return choose_language(
        chosen=chosen, preferred=preferred, accept_language=request.headers.get("accept-language")
    )


def remember_language(
    request: Request, response: Response, *, public_base_url: str, max_age: int
) -> None:
    """A ``?lang=`` choice is kept for the page's later answers (its forms' redirects)."""
    chosen = request.query_params.get("lang")
    if is_language(chosen):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            path=request.url.path,
            secure=secure_for(public_base_url),
            max_age=max_age,
            httponly=True,
            samesite="lax",
        )


def csrf_for(web: PageKit, bound_to: str) -> str:
    return csrf_token(web.csrf_key, bound_to=bound_to)


async def checked_form(request: Request, web: PageKit, bound_to: str) -> Mapping[str, str] | None:
    """The posted form's text fields if its CSRF token proves it came from this page,
    else ``None`` (the service refuses it)."""
    form = await request.form()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    if not csrf_ok(web.csrf_key, bound_to=bound_to, submitted=fields.get(CSRF_FIELD)):
        return None
    return fields


async def throttle(web: PageKit, keys: Iterable[tuple[str, str]]) -> Verdict:
    """Count the request against each ``(limit name, key)``; ``RateLimited`` when a limit
    is exhausted."""
    rules = [Rule(web.rate_limits[name], key) for name, key in keys]
    verdict = await web.throttle.check(rules)
    if not verdict.allowed:
        raise RateLimited(verdict)
    return verdict


def translator(web: PageKit, language: Language) -> Translator:
    return Translator(web.catalog, language)


def render(
    web: PageKit,
    template: str,
    context: Mapping[str, Any],
    *,
    language: Language,
    path: str | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page with the translator, the language switch (links to ``path`` with ``?lang=``;
    none without a path) and the CSRF field's name; never cached (it is one customer's)."""
    links = language_links(language, lambda lang: f"{path}?lang={lang}") if path else []
    html = web.pages.render(
        template,
        {
            "tr": translator(web, language),
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
