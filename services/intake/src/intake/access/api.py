"""How a request names its caller: a front end's ``X-API-Key``, or a customer's tracking token
(``X-Tracking-Token`` or ``?token=``). FastAPI dependencies of the routers."""

from __future__ import annotations

from typing import Annotated

from complaint_runtime.errors import Unauthorized
from fastapi import Depends, Header, Query

from intake.access.domain.callers import FrontEnd, Viewer, hash_api_key
from intake.bootstrap import DependenciesDep

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
