"""One upstream service over HTTP: every request with the user's bearer token for that
service's audience (:class:`BearerTokens`: the console signs one per audience), every
refusal a domain error (:func:`console.backends.domain.problems.error_of`), every transport
failure :class:`BackendUnavailable`. ``transport`` lets tests put ``httpx.MockTransport`` or
an ASGI app in the service's place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import httpx
import structlog

from console.backends.domain.problems import BackendUnavailable, error_of

log = structlog.get_logger(__name__)

QueryParams = Sequence[tuple[str, str]]


class BearerTokens(Protocol):
    """Whose calls these are: a token for each audience (the service called)."""

    def token_for(self, audience: str) -> str: ...


class UpstreamClient:
    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service = service
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        tokens: BearerTokens | None,
        params: QueryParams = (),
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The answer's JSON; raises the domain error of a refusal. The request carries
        ``tokens``' token for this service (its name is the audience), never another's."""
        sent = dict(headers or {})
        if tokens is not None:
            sent["Authorization"] = f"Bearer {tokens.token_for(self.service)}"
        try:
            response = await self._http.request(
                method, path, params=list(params), json=body, headers=sent
            )
        except httpx.HTTPError as exc:
            log.warning("upstream call failed", service=self.service, error=repr(exc)[:300])
            raise BackendUnavailable(self.service, type(exc).__name__) from exc
        if response.is_success:
            return _json(response, self.service)
        problem = _problem(response)
        if response.status_code >= 500:
            log.warning("upstream error", service=self.service, status=response.status_code)
        raise error_of(self.service, response.status_code, problem)


def _json(response: httpx.Response, service: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise BackendUnavailable(service, "an answer that is not JSON") from exc


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
