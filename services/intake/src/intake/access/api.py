"""How a request names its caller: a front end's ``X-API-Key``, or a customer's tracking token
(``X-Tracking-Token`` or ``?token=``). FastAPI dependencies of the routers.

A customer's token opens the same complaint as the tracking page, so it counts against the
page's rate limits (:func:`customer_limit`: same action, same per-complaint and per-client
counters); a front end (trusted, behind its API key) is not limited here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from complaint_customer_web.web import RATE_LIMIT_HEADERS
from complaint_runtime.errors import Unauthorized
from fastapi import Depends, Header, Query, Request, Response

from intake.access.domain.callers import FrontEnd, Viewer, hash_api_key
from intake.bootstrap import DependenciesDep
from intake.pages import web
from intake.pages.domain.throttling import Action

API_KEY_CHALLENGE = 'ApiKey header="X-API-Key"'


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail, challenge=API_KEY_CHALLENGE)


async def optional_front_end(
    deps: DependenciesDep,
    x_api_key: Annotated[str | None, Header(max_length=200)] = None,
) -> FrontEnd | None:
    if x_api_key is None:
        return None
    front_end = await deps.api_keys.lookup(deps.database, hash_api_key(x_api_key))
    if front_end is None:
        raise _unauthorized("The X-API-Key is not valid.")
    return front_end


async def front_end(
    caller: Annotated[FrontEnd | None, Depends(optional_front_end)],
) -> FrontEnd:
    if caller is None:
        raise _unauthorized("Send the channel's API key in the X-API-Key header.")
    return caller


async def viewer(
    caller: Annotated[FrontEnd | None, Depends(optional_front_end)],
    x_tracking_token: Annotated[str | None, Header(max_length=200)] = None,
    token: Annotated[
        str | None, Query(max_length=200, description="The customer's tracking token")
    ] = None,
) -> Viewer:
    tracking = x_tracking_token or token
    if caller is None and tracking is None:
        raise _unauthorized(
            "Send an X-API-Key, or the tracking token (X-Tracking-Token or ?token=)."
        )
    return Viewer(caller, tracking)


FrontEndDep = Annotated[FrontEnd, Depends(front_end)]
ViewerDep = Annotated[Viewer, Depends(viewer)]


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        **PROBLEM,
        "description": "Too many requests with the customer's tracking token (per complaint "
        "and per client address); `Retry-After` says when to try again",
        "headers": RATE_LIMIT_HEADERS,
    }
}
"""The OpenAPI response of a route with :func:`customer_limit`."""


def customer_limit(action: Action) -> Callable[..., Awaitable[None]]:
    """A route's dependency: a customer's request counts against the tracking page's limits
    of ``action`` for this complaint (429 problem with ``Retry-After`` and ``RateLimit-*``
    when exhausted; ``RateLimit-*`` on a model answer otherwise)."""

    async def counted(
        complaint_id: str,
        request: Request,
        response: Response,
        caller: ViewerDep,
        deps: DependenciesDep,
    ) -> None:
        if caller.front_end is not None:
            return
        verdict = await web.throttle(request, deps, action, complaint_id)
        response.headers.update(verdict.headers())

    return counted
