"""Just-in-time lookups over other services' internal APIs (service JWT, bounded timeouts).

Customer contacts (with the times promised to the customer) and lost-link codes come from
intake, survey links from feedback; all are used for one send and then dropped, never
stored. A dependency that is down or answers 5xx raises :class:`TransientError` (retry
later); 404 raises :class:`NotFound`: there is nothing to send to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from complaint_runtime.consumer import TransientError
from complaint_runtime.errors import NotFound
from complaint_runtime.identity import issue_token

MAX_RESPONSE_BYTES = 64 * 1024
TOKEN_TTL_S = 300


class BadResponse(Exception):
    """The other service answered something off-contract: retrying will not help."""


@dataclass(frozen=True)
class CustomerContact:
    complaint_id: str
    reference: str
    name: str | None
    email: str | None
    phone: str | None
    language: str
    preferred_channel: str | None
    tracking_url: str | None
    team: str | None
    assignee: str | None
    priority: str | None = None
    # The times promised to the customer (from sla-watch's clocks, as intake projected them)
    # and the zone to show them in; an older intake answers none of them.
    received_at: datetime | None = None
    timezone: str | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    clocks_expected: bool = False


@dataclass(frozen=True)
class TrackingCode:
    """A lost-link code, read once from intake just before it is sent."""

    code: str
    expires_at: datetime | None


@dataclass(frozen=True)
class SurveyLink:
    survey_url: str
    expires_at: str | None
    reference: str | None
    language: str | None


@dataclass(frozen=True)
class NpsLink:
    nps_url: str
    opt_out_url: str
    expires_at: str | None


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _time(data: dict[str, Any], key: str) -> datetime | None:
    """An ISO time with its offset; anything else (absent, null, naive, garbage) is none."""
    text = _str(data, key)
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


class InternalApi:
    """The client of intake's and feedback's internal APIs, one per process (closed by the
    delivery loop when it stops)."""

    def __init__(
        self,
        *,
        intake_url: str,
        feedback_url: str,
        secret: str,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._intake = intake_url.rstrip("/")
        self._feedback = feedback_url.rstrip("/")
        self._secret = secret
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s), transport=transport, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def customer_contact(self, complaint_id: str) -> CustomerContact:
        url = f"{self._intake}/internal/v1/complaints/{complaint_id}/contact"
        data = await self._get_json(url, what="intake")
        reference = _str(data, "reference")
        if reference is None:
            raise BadResponse("intake's contact answer has no reference")
        return CustomerContact(
            complaint_id=_str(data, "complaint_id") or complaint_id,
            reference=reference,
            name=_str(data, "name"),
            email=_str(data, "email"),
            phone=_str(data, "phone"),
            language=_str(data, "language") or "zh-CN",
            preferred_channel=_str(data, "preferred_channel"),
            tracking_url=_str(data, "tracking_url"),
            team=_str(data, "team"),
            assignee=_str(data, "assignee"),
            priority=_str(data, "priority"),
            received_at=_time(data, "received_at"),
            timezone=_str(data, "timezone"),
            first_response_due_at=_time(data, "first_response_due_at"),
            resolution_due_at=_time(data, "resolution_due_at"),
            clocks_expected=data.get("clocks_expected") is True,
        )

    async def tracking_code(self, complaint_id: str, request_id: str) -> TrackingCode:
        """The code of a lost-link request; intake answers it once (404 afterwards, or
        once it expired: :class:`NotFound`, nothing to send)."""
        url = f"{self._intake}/internal/v1/complaints/{complaint_id}/tracking-codes/{request_id}"
        data = await self._get_json(url, what="intake")
        code = _str(data, "code")
        if code is None or not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise BadResponse("intake's tracking code answer has no 6-digit code")
        return TrackingCode(code=code, expires_at=_time(data, "expires_at"))

    async def survey_link(self, request_id: str) -> SurveyLink:
        url = f"{self._feedback}/internal/v1/confirmation-requests/{request_id}"
        data = await self._get_json(url, what="feedback")
        survey_url = _str(data, "survey_url")
        if survey_url is None:
            raise BadResponse("feedback's confirmation request has no survey_url")
        return SurveyLink(
            survey_url=survey_url,
            expires_at=_str(data, "expires_at"),
            reference=_str(data, "reference"),
            language=_str(data, "language"),
        )

    async def nps_link(self, request_id: str) -> NpsLink:
        url = f"{self._feedback}/internal/v1/nps/requests/{request_id}"
        data = await self._get_json(url, what="feedback")
        nps_url = _str(data, "nps_url")
        if nps_url is None:
            raise BadResponse("feedback's NPS request has no nps_url")
        return NpsLink(
            nps_url=nps_url,
            opt_out_url=_str(data, "opt_out_url") or nps_url,
            expires_at=_str(data, "expires_at"),
        )

    async def _get_json(self, url: str, *, what: str) -> dict[str, Any]:
        token = issue_token(
            secret=self._secret, subject="notify", roles=["service"], ttl_s=TOKEN_TTL_S
        )
        try:
            response = await self._client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:  # connect, read, timeouts: the service is not there
            raise TransientError(f"{what} unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 404:  # the other service does not know it (e.g. erased)
            raise NotFound(f"{what} answered 404")
        if status >= 500 or status in (401, 403, 408, 429):
            # 401/403 mean a secret mismatch during a rollout: retried, and final after
            # NOTIFY_MAX_ATTEMPTS like any other outage.
            raise TransientError(f"{what} answered {status}")
        if status != 200:
            raise BadResponse(f"{what} answered {status}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise BadResponse(f"{what}'s answer is larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            data = response.json()
        except ValueError as exc:
            raise BadResponse(f"{what}'s answer is not JSON") from exc
        if not isinstance(data, dict):
            raise BadResponse(f"{what}'s answer is not a JSON object")
        return data
