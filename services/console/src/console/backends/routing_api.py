"""routing's API as the console uses it: case lists and case files, the staff commands
(with a lead's escalation, duplicate links and the contact reveal), the team queue, agents
and teams; notes, canned replies and tasks where routing has them
(:class:`RoutingCapabilities`).

Commands carry ``If-Match`` with the case's version when the page was rendered from a
case file that has one: routing then refuses a command on a case changed since (409
``stale-case``) instead of applying it over a change the user has not seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import httpx

from console.backends.domain.capabilities import NONE, RoutingCapabilities, capabilities_of
from console.backends.domain.problems import BackendUnavailable
from console.backends.http import BearerTokens, QueryParams, UpstreamClient

Command = Literal[
    "first-response",
    "replies",
    "awaiting-customer",
    "resume",
    "resolve",
    "transfer",
    "reassign",
    "recategorize",
    "notes",
    "escalate",
    "duplicate-of",
    "duplicate-of/unlink",
    "contact/reveal",
]
CAPABILITIES_TTL_S: Final = 60.0


class RoutingApi:
    def __init__(
        self,
        *,
        base_url: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = UpstreamClient(
            service="routing", base_url=base_url, timeout_s=timeout_s, transport=transport
        )
        self._monotonic = monotonic
        # (read at, capabilities): routing's OpenAPI document, read again after a minute.
        self._capabilities: tuple[float, RoutingCapabilities] | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def list_cases(self, *, tokens: BearerTokens, params: QueryParams) -> dict[str, Any]:
        answer: dict[str, Any] = await self._client.call(
            "GET", "/v1/cases", tokens=tokens, params=params
        )
        return answer

    async def case_file(self, *, tokens: BearerTokens, complaint_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self._client.call(
            "GET", f"/v1/cases/{complaint_id}", tokens=tokens
        )
        return answer

    async def command(
        self,
        *,
        tokens: BearerTokens,
        complaint_id: str,
        command: Command,
        body: Mapping[str, Any] | None,
        version: int | None = None,
    ) -> Any:
        """The command's answer (the case; the contact for ``contact/reveal``; nothing for
        an ``escalate`` accepted with 202)."""
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return await self._client.call(
            "POST", f"/v1/cases/{complaint_id}/{command}", tokens=tokens, body=body, headers=headers
        )

    async def team_queue(self, *, tokens: BearerTokens, team: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self._client.call(
            "GET", f"/v1/teams/{team}/queue", tokens=tokens
        )
        return answer

    async def agents(self, *, tokens: BearerTokens, team: str | None) -> list[dict[str, Any]]:
        params = [("team", team)] if team else []
        answer: list[dict[str, Any]] = await self._client.call(
            "GET", "/v1/admin/agents", tokens=tokens, params=params
        )
        return answer

    async def teams(self, *, tokens: BearerTokens) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = await self._client.call(
            "GET", "/v1/admin/teams", tokens=tokens
        )
        return answer

    async def canned_replies(self, *, tokens: BearerTokens, params: QueryParams = ()) -> Any:
        return await self._client.call("GET", "/v1/canned-replies", tokens=tokens, params=params)

    async def tasks(self, *, tokens: BearerTokens, params: QueryParams = ()) -> Any:
        return await self._client.call("GET", "/v1/tasks", tokens=tokens, params=params)

    async def assign_task(self, *, tokens: BearerTokens, task_id: int, assignee: str) -> Any:
        return await self._client.call(
            "POST", f"/v1/tasks/{task_id}/assign", tokens=tokens, body={"assignee": assignee}
        )

    async def complete_task(
        self, *, tokens: BearerTokens, task_id: int, body: Mapping[str, Any]
    ) -> Any:
        return await self._client.call(
            "POST", f"/v1/tasks/{task_id}/complete", tokens=tokens, body=body
        )

    async def capabilities(self) -> RoutingCapabilities:
        """What this routing answers; none of the optional parts while routing is down
        (the pages then leave them out rather than fail)."""
        now = self._monotonic()
        if self._capabilities is not None and now - self._capabilities[0] < CAPABILITIES_TTL_S:
            return self._capabilities[1]
        try:
            document = await self._client.call("GET", "/openapi.json", tokens=None)
        except BackendUnavailable:
            return NONE
        found = capabilities_of(document) if isinstance(document, dict) else NONE
        self._capabilities = (now, found)
        return found
