"""intake's internal API as routing calls it: the raw contact of one complaint, for a lead
or manager who reveals it (§10). The contact is handed to that one answer and never stored.

Every call carries a short-lived token routing signs with its own key (``AUTH_SIGNING_KEY``,
kid ``service:routing``) for audience ``intake``: intake knows the caller is routing, and no
other service accepts the token. Without that key a reveal is ``NotConfigured`` (503) and
intake is never asked. Every call waits at most ``INTERNAL_HTTP_TIMEOUT_S`` and reads at
most ``MAX_RESPONSE_BYTES``: a staff request must not hang on intake, and routing must not
buffer whatever a broken peer sends. intake down, slow, overloaded or answering off-contract
is :class:`IntakeUnavailable` (503: nothing was revealed, retry later); intake's 404 (an
unknown or erased complaint) is ``NotFound``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from complaint_runtime.errors import NotConfigured, NotFound, Unavailable
from complaint_runtime.identity import ServiceCaller

MAX_RESPONSE_BYTES = 16 * 1024  # a contact card is a few hundred bytes
AUDIENCE = "intake"
log = structlog.get_logger(__name__)


class IntakeUnavailable(Unavailable):
    """intake did not give a usable answer (down, too slow, 5xx, off-contract)."""

    default_title = "intake is unavailable"


@dataclass(frozen=True, slots=True)
class Contact:
    """The customer's raw contact as intake keeps it (decrypted for this one answer)."""

    name: str | None
    email: str | None
    phone: str | None
    preferred_channel: str | None


class IntakeApi:
    """The client of intake's internal API; one per process, stateless (each call opens
    its own connection: reveals are rare, and nothing needs closing at shutdown)."""

    def __init__(
        self,
        *,
        base_url: str,
        caller: ServiceCaller | None,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._base = base_url.rstrip("/")
        self._caller = caller  # None: AUTH_SIGNING_KEY unset, routing cannot call intake
        self._timeout = httpx.Timeout(timeout_s)
        self._transport = transport  # tests: an httpx.MockTransport standing in for intake

    async def contact(self, complaint_id: str) -> Contact:
        """The contact of ``complaint_id``; ``NotFound`` when intake has none."""
        data = await self._get_json(f"/internal/v1/complaints/{complaint_id}/contact")
        return Contact(
            name=_text(data, "name"),
            email=_text(data, "email"),
            phone=_text(data, "phone"),
            preferred_channel=_text(data, "preferred_channel"),
        )

    async def _get_json(self, path: str) -> dict[str, Any]:
        if self._caller is None:
            raise NotConfigured(
                "AUTH_SIGNING_KEY is not set: routing cannot ask intake for a contact.",
                kind="auth-not-configured",
            )
        token = self._caller.token_for(AUDIENCE)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            async with (
                httpx.AsyncClient(
                    timeout=self._timeout, transport=self._transport, follow_redirects=False
                ) as client,
                client.stream("GET", f"{self._base}{path}", headers=headers) as response,
            ):
                if response.status_code == 404:
                    raise NotFound("intake knows no contact for this complaint.")
                if response.status_code != 200:
                    raise _unavailable(f"intake answered {response.status_code}")
                body = await _bounded(response)
        except httpx.HTTPError as exc:  # connect, read, timeouts: intake is not there
            raise _unavailable(f"intake unreachable: {type(exc).__name__}") from exc
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _unavailable("intake's answer is not JSON") from exc
        if not isinstance(data, dict):
            raise _unavailable("intake's answer is not a JSON object")
        return data


async def _bounded(response: httpx.Response) -> bytes:
    """The body, refused as soon as it grows past ``MAX_RESPONSE_BYTES``."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _unavailable(f"intake's answer is larger than {MAX_RESPONSE_BYTES} bytes")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise _unavailable(f"intake's answer is larger than {MAX_RESPONSE_BYTES} bytes")
    return bytes(body)


def _unavailable(reason: str) -> IntakeUnavailable:
    log.warning("intake contact lookup failed", reason=reason)
    return IntakeUnavailable(f"{reason}; nothing was revealed, retry later.")


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None
