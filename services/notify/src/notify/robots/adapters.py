"""Posting a built robot request with httpx and turning the answer into an outcome.

One function, :func:`post`: a JSON POST (UTF-8, ``Content-Type: application/json;
charset=utf-8`` as DingTalk requires) of ``request.body`` to ``request.url``, then
``domain.outcomes.classify`` for ``request.vendor``. ``timeout_s`` bounds the whole call
(connect, send, wait and read together, so a server that drips its answer cannot hold it
longer). It never raises for a network failure: a timeout or a transport error is a
``retry`` outcome, flagged ``maybe_delivered`` unless nothing can have been sent (a refused
or timed-out connect, a wait for a pooled connection); any other httpx error (an answer
that cannot be decoded) is such a ``maybe_delivered`` retry too. Redirects are not followed
(a robot answers directly; a redirect is classified like any other answer without a result
code).
The URL holds the robot's key or token, so neither it nor an exception text that may contain
it is put into the outcome.
"""

from __future__ import annotations

import asyncio
import json

import httpx

from notify.robots.domain.notice import RobotRequest
from notify.robots.domain.outcomes import RobotOutcome, classify, transport_failure

_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


async def post(
    client: httpx.AsyncClient, request: RobotRequest, *, timeout_s: float
) -> RobotOutcome:
    """Send ``request`` to its vendor's robot through ``client`` within ``timeout_s`` and
    classify what came back (see the module docstring)."""
    content = json.dumps(request.body, ensure_ascii=False).encode("utf-8")
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.post(
                request.url,
                content=content,
                headers=_HEADERS,
                timeout=httpx.Timeout(timeout_s),
                follow_redirects=False,
            )
    except (httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout):
        return transport_failure(reason="connection", sent=False)
    except (httpx.TimeoutException, TimeoutError):
        return transport_failure(reason="timeout", sent=True)
    except httpx.TransportError:
        return transport_failure(reason="connection", sent=True)
    except httpx.HTTPError:
        # Any other httpx error once the request may have gone, e.g. a DecodingError for a
        # corrupt gzip answer (a RequestError, not a TransportError): maybe delivered.
        return transport_failure(reason="connection", sent=True)
    return classify(request.vendor, http_status=response.status_code, body=response.content)
