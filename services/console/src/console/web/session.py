"""The session as pages use it: who is signed in, the bearer tokens their calls carry, the
CSRF token every form and htmx request sends back, the reader's language, one-time
notices ("Reply sent"), and rendering a page with all of that.

The session is Starlette's signed cookie (``console_session``: HttpOnly, SameSite=Lax,
Secure unless ``CONSOLE_COOKIE_SECURE=false``, ``Max-Age`` the session's lifetime).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from complaint_runtime.errors import Forbidden
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from console.backends.domain.problems import SignInRequired
from console.bootstrap import Dependencies, DependenciesDep
from console.i18n.domain.language import Language, chosen_language
from console.i18n.domain.locale import Locale
from console.signin import service as signin
from console.signin.domain.csrf import CSRF_FIELD, CSRF_HEADER, TOKEN_BYTES, csrf_ok, token_of
from console.signin.domain.session_user import SessionUser

SESSION_COOKIE: Final = "console_session"
LANGUAGE_COOKIE: Final = "console_lang"
_USER: Final = "user"
_CSRF: Final = "csrf"
_NOTICE: Final = "notice"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(Forbidden):
    """A state-changing request without the session's CSRF token: nothing is applied."""

    default_title = "Form refused"
    default_kind = "csrf"


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user and the tokens their calls carry: one per audience (routing,
    sla-watch), signed by the console for this request (:class:`signin.UserTokens`)."""

    user: SessionUser
    tokens: signin.UserTokens


def _session(request: Request) -> dict[str, Any]:
    """The session, or an empty one where the session middleware has not run (the page of
    an unexpected error is drawn outside it)."""
    if "session" not in request.scope:
        return {}
    session: dict[str, Any] = request.session
    return session


def session_user(request: Request, deps: Dependencies) -> SessionUser | None:
    session = _session(request)
    user = SessionUser.from_session(session.get(_USER))
    if user is not None and user.expired(deps.clock().timestamp()):
        session.pop(_USER, None)
        return None
    return user


def sign_in(request: Request, user: SessionUser) -> None:
    """A new session for ``user`` (a fresh CSRF token: the one of the signed-out page
    cannot be reused)."""
    request.session.clear()
    request.session[_USER] = user.to_session()
    request.session[_CSRF] = token_of(secrets.token_bytes(TOKEN_BYTES))


def sign_out(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    session = _session(request)
    token = session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = token_of(secrets.token_bytes(TOKEN_BYTES))
        session[_CSRF] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Every unsafe request must carry the session's CSRF token (form field or htmx
    header); installed on the whole app, so no route can forget it."""
    if request.method not in UNSAFE_METHODS:
        return
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    expected = request.session.get(_CSRF)
    if not csrf_ok(expected if isinstance(expected, str) else None, submitted):
        raise CsrfRefused(
            "This form was not sent from this console's page, or the page is too old."
        )


async def caller(request: Request, deps: DependenciesDep) -> Caller:
    user = session_user(request, deps)
    if user is None:
        raise SignInRequired("Sign in to use the console.")
    tokens = signin.user_tokens(
        user=user,
        signing_key=deps.runtime.signing_key,
        ttl_s=deps.settings.console_platform_token_ttl_s,
        issuer=deps.settings.auth_issuer,
    )
    return Caller(user=user, tokens=tokens)


CallerDep = Annotated[Caller, Depends(caller)]


async def lead_caller(signed_in: CallerDep) -> Caller:
    if not signed_in.user.is_lead:
        raise Forbidden("This page is for team leads and managers.", kind="leads-only")
    return signed_in


LeadCallerDep = Annotated[Caller, Depends(lead_caller)]


def language_of(request: Request, deps: Dependencies) -> Language:
    return chosen_language(
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
        default=deps.settings.console_default_language,
    )


def locale_of(request: Request, deps: Dependencies) -> Locale:
    return Locale(language=language_of(request, deps), zone=deps.zone, now=deps.clock())


def notify(request: Request, message_key: str) -> None:
    """A one-time notice shown on the next page (the result of an action)."""
    request.session[_NOTICE] = message_key


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(request: Request) -> bool:
    """htmx asking for a part of a page (a list, the board's panels), not a boosted link
    or form, whose answer replaces the whole page."""
    return is_htmx(request) and request.headers.get("HX-Boosted") != "true"


def render(
    request: Request,
    deps: Dependencies,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    user: SessionUser | None = None,
) -> HTMLResponse:
    """A page or partial with what every template uses: the locale (``loc``), the user,
    the CSRF token, the one-time notice and the current path."""
    notice = None if wants_fragment(request) else _session(request).pop(_NOTICE, None)
    html = deps.pages.render(
        template,
        {
            "loc": locale_of(request, deps),
            "user": user,
            "csrf": csrf_token(request),
            "csrf_field": CSRF_FIELD,
            "csrf_header": CSRF_HEADER,
            "notice": notice,
            "path": request.url.path,
            "full_path": _full_path(request),
            "nav": None,
            "form": None,
            **context,
        },
    )
    return HTMLResponse(
        html, status_code=status_code, headers={"Cache-Control": "no-store", "Vary": "Cookie"}
    )


def _full_path(request: Request) -> str:
    """Where this page is, to come back to (after switching the language); a page drawn
    for a POST names its own address itself."""
    if request.method != "GET":
        return "/"
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path
