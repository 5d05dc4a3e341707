"""Just-in-time lookups over other services' internal APIs (bounded timeouts), each call
with a short-lived token notify signs with its own key for the service it calls.

Customer contacts (with the times promised to the customer) and lost-link codes come from
intake, survey links from feedback; all are used for one send and then dropped, never
stored. A dependency that is down or answers 5xx raises :class:`TransientError` (retry
later); 404 raises :class:`NotFound`: there is nothing to send to.

The delivery loop asks intake for the contacts of a whole claimed batch at once
(:meth:`InternalApi.customer_contacts`, up to :data:`CONTACT_BATCH_MAX` complaints a
request); a complaint intake does not know is named in the answer instead of a 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from complaint_runtime.consumer import TransientError
from complaint_runtime.errors import NotFound
from complaint_runtime.identity import ServiceCaller

MAX_RESPONSE_BYTES = 64 * 1024
CONTACT_BATCH_MAX = 100  # intake's bound on one contact lookup
CONTACT_LOOKUP_PATH = "/internal/v1/contacts/lookup"


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
class ContactBatch:
    """intake's answer for several complaints: the contacts it found, the complaints it
    does not know (each one's 404) and, per complaint, why its entry was off-contract."""

    found: Mapping[str, CustomerContact] = field(default_factory=dict)
    not_found: frozenset[str] = frozenset()
    bad: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ForwardedReply:
    """intake's answer to a forwarded reply: the complaint (the one replied to, or the
    follow-up it opened) and the message's id, or why it refused it (final)."""

    complaint_id: str | None = None
    message_id: str | None = None
    refusal: str | None = None


def _refusal(response: httpx.Response) -> str:
    """``409 complaint-withdrawn``: the status and the problem's kind (never its detail)."""
    kind = ""
    if len(response.content) <= MAX_RESPONSE_BYTES:
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict) and isinstance(problem.get("type"), str):
            kind = problem["type"].rsplit("/", 1)[-1][:60]
    return f"{response.status_code} {kind}".strip()


class BatchUnsupported(Exception):
    """intake has no batch lookup (an older intake answers 404 or 405): ask one by one."""


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


def _contact(data: dict[str, Any], complaint_id: str) -> CustomerContact:
    """One complaint's contact card, as the single lookup and each entry of a batch give it."""
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


class InternalApi:
    """The client of intake's and feedback's internal APIs, one per process (closed by the
    delivery loop when it stops)."""

    def __init__(
        self,
        *,
        intake_url: str,
        feedback_url: str,
        caller: ServiceCaller,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._intake = intake_url.rstrip("/")
        self._feedback = feedback_url.rstrip("/")
        self._caller = caller
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s), transport=transport, follow_redirects=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def customer_contact(self, complaint_id: str) -> CustomerContact:
        url = f"{self._intake}/internal/v1/complaints/{complaint_id}/contact"
        data = await self._get_json(url, service="intake")
        return _contact(data, complaint_id)

    async def customer_contacts(self, complaint_ids: Sequence[str]) -> ContactBatch:
        """The contacts of up to :data:`CONTACT_BATCH_MAX` complaints in one request.

        The whole request fails like :meth:`customer_contact` (:class:`TransientError`
        when intake is down, answers 5xx, 401, 403, 408 or 429; :class:`BadResponse` for
        an off-contract answer), except that 404 and 405 raise :class:`BatchUnsupported`.
        A complaint intake does not know is in ``not_found``, an entry without a reference
        in ``bad``; a complaint the answer does not mention is in neither."""
        wanted = list(dict.fromkeys(complaint_ids))
        if not wanted:
            return ContactBatch()
        if len(wanted) > CONTACT_BATCH_MAX:
            raise ValueError(f"at most {CONTACT_BATCH_MAX} complaints per contact lookup")
        data = await self._request_json(
            "POST",
            f"{self._intake}{CONTACT_LOOKUP_PATH}",
            service="intake",
            body={"complaint_ids": wanted},
            max_bytes=MAX_RESPONSE_BYTES * len(wanted),
            unsupported=(404, 405),
        )
        entries, missing = data.get("contacts"), data.get("not_found")
        if not isinstance(entries, list) or not isinstance(missing, list):
            raise BadResponse("intake's contact lookup has no contacts and not_found lists")
        asked = set(wanted)
        found: dict[str, CustomerContact] = {}
        bad: dict[str, str] = {}
        for entry in entries:
            complaint_id = _str(entry, "complaint_id") if isinstance(entry, dict) else None
            if complaint_id is None or complaint_id not in asked:
                continue  # not one asked for: nobody's answer
            try:
                found[complaint_id] = _contact(entry, complaint_id)
            except BadResponse as exc:
                bad[complaint_id] = str(exc)
        not_found = frozenset(i for i in missing if isinstance(i, str) and i in asked)
        return ContactBatch(found=found, not_found=not_found - found.keys(), bad=bad)

    async def tracking_code(self, complaint_id: str, request_id: str) -> TrackingCode:
        """The code of a lost-link request; intake answers it once (404 afterwards, or
        once it expired: :class:`NotFound`, nothing to send)."""
        url = f"{self._intake}/internal/v1/complaints/{complaint_id}/tracking-codes/{request_id}"
        data = await self._get_json(url, service="intake")
        code = _str(data, "code")
        if code is None or not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise BadResponse("intake's tracking code answer has no 6-digit code")
        return TrackingCode(code=code, expires_at=_time(data, "expires_at"))

    async def survey_link(self, request_id: str) -> SurveyLink:
        url = f"{self._feedback}/internal/v1/confirmation-requests/{request_id}"
        data = await self._get_json(url, service="feedback")
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
        data = await self._get_json(url, service="feedback")
        nps_url = _str(data, "nps_url")
        if nps_url is None:
            raise BadResponse("feedback's NPS request has no nps_url")
        return NpsLink(
            nps_url=nps_url,
            opt_out_url=_str(data, "opt_out_url") or nps_url,
            expires_at=_str(data, "expires_at"),
        )

    async def forward_reply(
        self,
        complaint_id: str,
        *,
        text: str,
        channel: str,
        external_id: str,
        received_at: datetime,
    ) -> ForwardedReply:
        """Hand a customer's reply to intake as their message on the complaint (the same
        ``external_id`` again adds nothing). :class:`TransientError` when intake is down or
        answers 5xx, 401, 403, 408 or 429 (try again later); a refusal (404, 409, 422) is
        answered as a :class:`ForwardedReply` with its reason, final."""
        url = f"{self._intake}/internal/v1/complaints/{complaint_id}/messages"
        body = {
            "text": text,
            "channel": channel,
            "external_id": external_id,
            "received_at": received_at.isoformat(),
        }
        token = self._caller.token_for("intake")
        try:
            response = await self._client.post(
                url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise TransientError(f"intake unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status >= 500 or status in (401, 403, 408, 429):
            raise TransientError(f"intake answered {status}")
        if status == 201 and len(response.content) <= MAX_RESPONSE_BYTES:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict) and _str(data, "complaint_id"):
                return ForwardedReply(
                    complaint_id=str(data["complaint_id"]), message_id=_str(data, "message_id")
                )
        return ForwardedReply(refusal=_refusal(response))

    async def _get_json(self, url: str, *, service: str) -> dict[str, Any]:
        return await self._request_json("GET", url, service=service)

    async def _request_json(
        self,
        method: str,
        url: str,
        *,
        service: str,
        body: dict[str, Any] | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
        unsupported: tuple[int, ...] = (),
    ) -> dict[str, Any]:
        # The token is for the service called only (its audience): useless anywhere else.
        token = self._caller.token_for(service)
        try:
            response = await self._client.request(
                method, url, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:  # connect, read, timeouts: the service is not there
            raise TransientError(f"{service} unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status in unsupported:
            raise BatchUnsupported(f"{service} answered {status}")
        if status == 404:  # the other service does not know it (e.g. erased)
            raise NotFound(f"{service} answered 404")
        if status >= 500 or status in (401, 403, 408, 429):
            # 401/403 mean a key not yet trusted during a rollout: retried, and final after
            # NOTIFY_MAX_ATTEMPTS like any other outage.
            raise TransientError(f"{service} answered {status}")
        if status != 200:
            raise BadResponse(f"{service} answered {status}")
        if len(response.content) > max_bytes:
            raise BadResponse(f"{service}'s answer is larger than {max_bytes} bytes")
        try:
            data = response.json()
        except ValueError as exc:
            raise BadResponse(f"{service}'s answer is not JSON") from exc
        if not isinstance(data, dict):
            raise BadResponse(f"{service}'s answer is not a JSON object")
        return data
