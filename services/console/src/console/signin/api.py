"""Sign-in pages: the development sign-in with a platform token, OpenID Connect, sign-out
and the language switch. Every POST carries the CSRF token (also the sign-in form: a
forged sign-in would put the victim in the attacker's session)."""

from __future__ import annotations

from typing import Annotated, Final

from complaint_runtime.errors import InvalidInput, NotConfigured
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.bootstrap import Dependencies, DependenciesDep
from console.i18n.domain.language import is_language
from console.signin import service
from console.signin.domain.redirects import local_path
from console.signin.oidc import OidcFailed
from console.web.errors import error_page
from console.web.session import (
    LANGUAGE_COOKIE,
    notify,
    render,
    session_user,
    sign_in,
    sign_out,
)

router = APIRouter(tags=["sign-in"])

_NEXT: Final = "signin_next"
LANGUAGE_COOKIE_MAX_AGE: Final = 365 * 24 * 3600
NextQuery = Annotated[str | None, Query(max_length=2000)]


def _sign_in_page(
    request: Request,
    deps: Dependencies,
    *,
    next_path: str,
    error_key: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        deps,
        "signin.html",
        {
            "dev_sign_in": deps.settings.console_dev_sign_in,
            "oidc": deps.oidc is not None,
            "next_path": next_path,
            "error_key": error_key,
        },
        status_code=status_code,
    )


@router.get("/signin", response_class=HTMLResponse, summary="The sign-in page")
async def sign_in_page(request: Request, deps: DependenciesDep, next: NextQuery = None) -> Response:
    next_path = local_path(next)
    if session_user(request, deps) is not None:
        return RedirectResponse(next_path, status_code=303)
    return _sign_in_page(request, deps, next_path=next_path)


@router.post("/signin/token", response_class=HTMLResponse, summary="Development sign-in")
async def sign_in_with_token(
    request: Request,
    deps: DependenciesDep,
    token: Annotated[str, Form(max_length=8192)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_path = local_path(next)
    if not deps.settings.console_dev_sign_in:
        return error_page(request, "not-found")
    try:
        user = await service.sign_in_with_token(
            token=token,
            verifier=deps.runtime.token_verifier,
            signing_key=deps.runtime.signing_key,
            now=deps.clock().timestamp(),
            max_age_s=deps.settings.console_session_max_age_s,
        )
    except InvalidInput as exc:
        return _sign_in_page(
            request, deps, next_path=next_path, error_key=f"signin.{exc.kind}", status_code=422
        )
    except NotConfigured:
        return _sign_in_page(
            request, deps, next_path=next_path, error_key="signin.not-configured", status_code=503
        )
    sign_in(request, user)
    notify(request, "notice.signed_in")
    return RedirectResponse(next_path, status_code=303)


@router.get("/signin/oidc", summary="Sign in with the organisation's identity provider")
async def sign_in_with_oidc(
    request: Request, deps: DependenciesDep, next: NextQuery = None
) -> Response:
    if deps.oidc is None:
        return error_page(request, "not-found")
    request.session[_NEXT] = local_path(next)
    public = deps.settings.console_public_url.rstrip("/")
    callback = f"{public}/signin/oidc/callback" if public else str(request.url_for("oidc_callback"))
    try:
        return await deps.oidc.redirect(request, redirect_uri=callback)
    except OidcFailed:
        return _sign_in_page(
            request, deps, next_path=local_path(next), error_key="signin.oidc-down", status_code=503
        )


@router.get("/signin/oidc/callback", name="oidc_callback", summary="The provider's answer")
async def oidc_callback(request: Request, deps: DependenciesDep) -> Response:
    if deps.oidc is None:
        return error_page(request, "not-found")
    next_path = local_path(request.session.get(_NEXT))
    try:
        claims = await deps.oidc.claims(request)
        user = service.sign_in_with_claims(
            claims=claims,
            names=deps.oidc.claim_names,
            now=deps.clock().timestamp(),
            max_age_s=deps.settings.console_session_max_age_s,
        )
    except OidcFailed:
        return _sign_in_page(
            request, deps, next_path=next_path, error_key="signin.oidc-failed", status_code=401
        )
    except service.ClaimsRefused:
        return _sign_in_page(
            request, deps, next_path=next_path, error_key="signin.oidc-refused", status_code=403
        )
    sign_in(request, user)
    notify(request, "notice.signed_in")
    return RedirectResponse(next_path, status_code=303)


@router.post("/signout", summary="Sign out")
async def sign_out_now(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/signin", status_code=303)


@router.post("/language", summary="Switch the language (kept in a cookie)")
async def switch_language(
    deps: DependenciesDep,
    language: Annotated[str, Form(max_length=10)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    response = RedirectResponse(local_path(next), status_code=303)
    if is_language(language):
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=deps.settings.console_cookie_secure,
        )
    return response
