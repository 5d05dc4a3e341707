"""The role x endpoint matrix (issue 14, §10): every route of every API service is called by
every kind of caller it does not admit, and none of them succeeds.

For each route the roles it admits are read from its ``require_roles`` dependencies (the
one place a route names them), and for an internal route the services its
``require_callers`` names. Then each service's app, on its own migrated SQLite database,
gets a request per route from: no credentials, a malformed token, a token signed with
another key, an expired token, a token for another service's audience (holding a role the
route admits), a valid token of every role the route does not admit, and for an internal
route every service it does not name. Each must be refused (401, 403 or 404) before
anything else runs: a 2xx, a redirect, a 422 (the route's own validation ran) or a 5xx fails
the test; only a customer's tracking token, checked against the complaint it names after the
body is read, may meet an empty body's 422 first. A route without any authentication must be
listed in :data:`PUBLIC` with the reason it is public, so a new unauthenticated route cannot
appear unnoticed; the public routes that open one complaint's or survey's page by a cookie
or a link are called without it and must not succeed either.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.identity import ISSUER, ROLES, SERVICE_ROLE
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

IDENTITY = DevIdentity.generate()
# The same key ids as IDENTITY's, other keys: what an attacker without the keys can sign.
STRANGER = DevIdentity.generate()
COMPLAINT_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"
NewMigratedSqlite = Callable[[Path], Awaitable[str]]

# Routes anyone may call, and why. (method, path) as the app declares it.
PUBLIC: dict[tuple[str, str], str] = {
    **{
        ("GET", path): "operations: liveness, readiness and metrics, for the orchestrator"
        for path in ("/livez", "/readyz", "/metrics", "/healthz/kafka")
    },
    ("GET", "/.well-known/jwks.json"): "the service's public signing key (public by design)",
    ("GET", "/t/{token}"): "the customer's tracking link: the token in the path is the secret",
    ("GET", "/recover"): "the lost-link page: a form anyone may open",
    ("POST", "/recover"): "the lost-link form: proves reference and contact, rate-limited",
    ("GET", "/recover/code"): "the lost-link code form",
    ("POST", "/recover/code"): "the lost-link code: one-time, few attempts, rate-limited",
    ("GET", "/s/{token}"): "the survey link: the signed token in the path is the secret",
    ("GET", "/n/{token}"): "the NPS link: the signed token in the path is the secret",
    ("GET", "/v1/surveys/{token}"): "a survey by its signed link token (the token is the secret)",
    ("POST", "/v1/surveys/{token}"): "a survey's answer by its signed link token",
    ("POST", "/v1/sms/receipts"): (
        "the SMS provider's delivery-receipt push: authenticated by NOTIFY_SMS_CALLBACK_TOKEN "
        "in its URL (constant-time comparison)"
    ),
    ("POST", "/v1/sms/inbound"): (
        "the SMS provider's inbound-message (customer reply) push: authenticated by "
        "NOTIFY_SMS_CALLBACK_TOKEN in its URL (constant-time comparison)"
    ),
    ("GET", "/v1/unsubscribe"): (
        "an e-mail's unsubscribe link: the HMAC-signed token naming the delivery is the "
        "secret; shows a form only, changes nothing"
    ),
    ("POST", "/v1/unsubscribe"): (
        "RFC 8058 one-click unsubscribe (mail clients post without credentials): the "
        "HMAC-signed token naming the delivery is the secret"
    ),
}
# Public routes that open one complaint's or survey's page only with the cookie its link
# set: called without the cookie, they must not succeed.
NEEDS_LINK_COOKIE: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/c/{complaint_id}"),
        ("POST", "/c/{complaint_id}/messages"),
        ("GET", "/c/{complaint_id}/withdraw"),
        ("POST", "/c/{complaint_id}/withdraw"),
        ("POST", "/c/{complaint_id}/link"),
        ("GET", "/survey/{request_id}"),
        ("POST", "/survey/{request_id}"),
        ("GET", "/nps/{request_id}"),
        ("POST", "/nps/{request_id}"),
        ("POST", "/nps/{request_id}/opt-out"),
    }
)
# Dependencies that authenticate a caller other than by a staff token: a front end's API
# key or a customer's tracking token (intake).
CREDENTIAL_DEPENDENCIES = re.compile(r"front_end|viewer|tracking|api_key", re.IGNORECASE)
REFUSED = {401, 403, 404}


@dataclass(frozen=True)
class Service:
    package: str
    settings_class: str
    extra: dict[str, Any]


SERVICES: dict[str, Service] = {
    "intake": Service(
        "intake",
        "IntakeSettings",
        {
            "contact_encryption_key": Fernet.generate_key().decode(),
            "customer_ref_key": "matrix-ref-key-8Hn3Bv6Cx9Zl2Kj5Mg1Pq4Rt7",
            "public_base_url": "https://intake.example.org",
        },
    ),
    "routing": Service("routing", "RoutingSettings", {}),
    "sla-watch": Service("sla_watch", "SlaSettings", {}),
    "feedback": Service("feedback", "FeedbackSettings", {}),
    "notify": Service("notify", "NotifySettings", {}),
}


@dataclass(frozen=True)
class RouteAccess:
    method: str
    path: str
    roles: frozenset[str] | None  # None: no require_roles / require_callers dependency
    other_credentials: bool  # an API key or tracking token dependency
    callers: frozenset[str] | None = None  # an internal route's services (require_callers)


def _included(routes: Sequence[Any], dependencies: tuple[Any, ...] = ()) -> Iterator[Any]:
    """Every APIRoute of an app, with the dependencies its including routers add (FastAPI
    keeps included routers as wrappers around the original router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route, dependencies
        elif hasattr(route, "original_router"):
            router = route.original_router
            added = tuple(d.dependency for d in route.include_context.dependencies)
            added += tuple(d.dependency for d in router.dependencies)
            yield from _included(router.routes, dependencies + added)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _closure(call: Any) -> dict[str, Any]:
    cells = dict(zip(call.__code__.co_freevars, call.__closure__ or (), strict=True))
    return {name: cell.cell_contents for name, cell in cells.items()}


def _admitted_roles(call: Any) -> frozenset[str] | None:
    """The roles of a ``require_roles(...)`` dependency, or of a ``require_callers(...)``
    one (``service`` and its staff roles), read from its closure."""
    name = getattr(call, "__qualname__", "")
    if name.startswith("require_roles."):
        return frozenset(_closure(call)["roles"])
    if name.startswith("require_callers."):
        return frozenset({SERVICE_ROLE, *_closure(call)["staff_roles"]})
    return None


def _admitted_callers(call: Any) -> frozenset[str] | None:
    if not getattr(call, "__qualname__", "").startswith("require_callers."):
        return None
    return frozenset(_closure(call)["services"])


def route_access(app: FastAPI) -> list[RouteAccess]:
    found = []
    for route, extra in _included(app.routes):
        calls = [*extra, *_calls(route.dependant)]
        admitted = [roles for roles in map(_admitted_roles, calls) if roles is not None]
        services = [named for named in map(_admitted_callers, calls) if named is not None]
        other = any(
            CREDENTIAL_DEPENDENCIES.search(getattr(call, "__qualname__", "")) for call in calls
        )
        for method in sorted(route.methods or ()):
            roles = frozenset.intersection(*admitted) if admitted else None
            callers = frozenset.intersection(*services) if services else None
            found.append(RouteAccess(method, route.path, roles, other, callers))
    return found


def _token(
    role: str | None,
    *,
    audience: str,
    identity: DevIdentity = IDENTITY,
    caller: str = "notify",
    expired: bool = False,
) -> str:
    """A token of ``role`` (default admin) for ``audience``; role ``service``: ``caller``'s."""
    if expired:
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "someone", "aud": audience, "roles": ["admin"]}
        claims |= {"iat": now - 7200, "exp": now - 3600}
        key = identity.staff
        return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    if role == SERVICE_ROLE:
        return identity.service_token(caller=caller, audience=audience)
    roles = [role] if role else ["admin"]
    return identity.token(subject=f"{role}-1", roles=roles, audience=audience, team="billing")


def callers_refused(access: RouteAccess, service: str) -> dict[str, dict[str, str]]:
    """Every kind of caller a route of ``service`` must refuse, by name."""
    roles = access.roles or frozenset()
    bearer = "Bearer {}".format
    admitted = sorted(roles)[0] if roles else "admin"
    admitted_caller = sorted(access.callers)[0] if access.callers else "notify"
    other_audience = "feedback" if service != "feedback" else "intake"
    callers = {
        "no credentials": {},
        "malformed token": {"Authorization": "Bearer not-a-jwt"},
        "token signed with another key": {
            "Authorization": bearer(_token(None, audience=service, identity=STRANGER))
        },
        "expired token": {"Authorization": bearer(_token(None, audience=service, expired=True))},
        "an API key instead of a token": {"X-API-Key": "ck_not-a-staff-credential"},
        f"a {admitted} token for another service's audience ({other_audience})": {
            "Authorization": bearer(
                _token(admitted, audience=other_audience, caller=admitted_caller)
            )
        },
    }
    for role in ROLES:
        if role not in roles:
            callers[f"role {role}"] = {"Authorization": bearer(_token(role, audience=service))}
    if access.callers is not None:
        for caller in IDENTITY.services:
            if caller not in access.callers and caller != "console":
                token = _token(SERVICE_ROLE, audience=service, caller=caller)
                callers[f"service {caller}, not named"] = {"Authorization": bearer(token)}
    return callers


def concrete(path: str) -> str:
    """The path with every parameter filled with a plausible value."""
    return re.sub(
        r"\{([^}:]+)(?::path)?\}",
        lambda m: COMPLAINT_ID if m.group(1).endswith("_id") else "2026-11",
        path,
    )


async def _app(name: str, migrated_sqlite: NewMigratedSqlite) -> FastAPI:
    service = SERVICES[name]
    main = importlib.import_module(f"{service.package}.main")
    config = importlib.import_module(f"{service.package}.config")
    url = await migrated_sqlite(main.MIGRATIONS)
    keys = {name.lower(): value for name, value in IDENTITY.env(name).items()}
    settings = getattr(config, service.settings_class)(
        database_url=url, log_json=False, **keys, **service.extra
    )
    app: FastAPI = main.create_app(settings)
    return app


def _describe(answer: httpx.Response) -> str:
    return f"{answer.status_code} {answer.text[:160]!r}"


@pytest.mark.parametrize("name", list(SERVICES))
async def test_no_route_admits_a_caller_it_does_not_name(
    name: str, migrated_sqlite: NewMigratedSqlite
) -> None:
    app = await _app(name, migrated_sqlite)
    access = route_access(app)
    assert access, f"no routes found in {name}"
    unexpected_public = sorted(
        f"{a.method} {a.path}"
        for a in access
        if a.roles is None
        and not a.other_credentials
        and (a.method, a.path) not in PUBLIC
        and (a.method, a.path) not in NEEDS_LINK_COOKIE
    )
    assert not unexpected_public, (
        "routes without authentication (require a role, or add them to PUBLIC with the "
        "reason):\n" + "\n".join(unexpected_public)
    )
    successes = []
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
            for route in access:
                refused = REFUSED
                if route.roles is not None:
                    callers = callers_refused(route, name)
                elif route.other_credentials or (route.method, route.path) in NEEDS_LINK_COOKIE:
                    callers = {
                        "no credentials": {},
                        "an unknown API key": {"X-API-Key": "ck_unknown-key"},
                        "an unknown tracking token": {"X-Tracking-Token": "not-a-token"},
                        "a staff token": {
                            "Authorization": f"Bearer {_token('admin', audience=name)}"
                        },
                    }
                    # A customer's token is checked against the complaint it names, after
                    # the body is read: an empty body's 422 is a refusal too.
                    refused = REFUSED | {422}
                else:
                    continue
                for caller, headers in callers.items():
                    answer = await client.request(
                        route.method, concrete(route.path), headers=headers, json={}
                    )
                    if answer.status_code not in refused:
                        successes.append(
                            f"{route.method} {route.path} as {caller}: {_describe(answer)}"
                        )
    finally:
        await app.state.runtime.database.dispose()
    assert not successes, f"{len(successes)} callers not refused:\n" + "\n".join(successes)


def test_the_matrix_reads_the_roles_of_a_route() -> None:
    """The introspection itself: a route's roles come out of its ``require_roles``."""
    from complaint_runtime.auth import require_roles
    from fastapi import APIRouter, Depends

    router = APIRouter()

    @router.get("/x", dependencies=[Depends(require_roles("lead", "manager"))])
    async def handler() -> None:
        return None

    app = FastAPI()
    app.include_router(router)
    (found,) = [a for a in route_access(app) if a.path == "/x"]
    assert found.roles == {"lead", "manager"}
    assert "role agent" in callers_refused(found, "routing")
    assert "role lead" not in callers_refused(found, "routing")


def test_the_matrix_reads_the_callers_of_an_internal_route() -> None:
    """An internal route admits the services its ``require_callers`` names (and its staff
    roles); every other service, and the staff roles it does not name, must be refused."""
    from complaint_runtime.auth import require_callers
    from fastapi import APIRouter, Depends

    router = APIRouter()

    @router.get("/i", dependencies=[Depends(require_callers("notify", staff_roles=("admin",)))])
    async def handler() -> None:
        return None

    app = FastAPI()
    app.include_router(router)
    (found,) = [a for a in route_access(app) if a.path == "/i"]
    assert (found.roles, found.callers) == ({"service", "admin"}, {"notify"})
    refused = callers_refused(found, "intake")
    assert {"service routing, not named", "service feedback, not named", "role agent"} <= set(
        refused
    )
    assert "service notify, not named" not in refused
    assert "role admin" not in refused
