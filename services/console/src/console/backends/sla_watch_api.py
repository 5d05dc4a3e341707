"""sla-watch's API as the console uses it: the clocks at risk of a team (leads' board)."""

from __future__ import annotations

from typing import Any

import httpx

from console.backends.http import BearerTokens, UpstreamClient


class SlaWatchApi:
    def __init__(
        self,
        *,
        base_url: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = UpstreamClient(
            service="sla-watch", base_url=base_url, timeout_s=timeout_s, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def clocks_at_risk(
        self, *, tokens: BearerTokens, team: str | None, limit: int
    ) -> dict[str, Any]:
        params = [("limit", str(limit))] + ([("team", team)] if team else [])
        answer: dict[str, Any] = await self._client.call(
            "GET", "/v1/clocks/at-risk", tokens=tokens, params=params
        )
        return answer
