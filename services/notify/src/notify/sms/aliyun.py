"""Alibaba Cloud SMS ``SendSms`` (dysmsapi, API version 2017-05-25) over httpx.

**Request** (RPC style). One POST to the endpoint (``https://dysmsapi.aliyuncs.com/``) with an
``application/x-www-form-urlencoded`` body, so the phone number never lands in a URL or an
access log, holding the common parameters ``AccessKeyId``, ``Action=SendSms``,
``Format=JSON``, ``RegionId``, ``SignatureMethod=HMAC-SHA1``, ``SignatureNonce`` (a fresh UUID
per attempt: the API refuses a nonce it has seen), ``SignatureVersion=1.0``, ``Timestamp``
(UTC, ``YYYY-MM-DDThh:mm:ssZ``), ``Version=2017-05-25`` and the operation's ``PhoneNumbers``
(the 11-digit national number for +86, else country code and number without ``+``),
``SignName``, ``TemplateCode``, ``TemplateParam`` (the parameters as a JSON object) and
``OutId`` (our delivery id, the same on every attempt; the API is not idempotent, it only
hands ``OutId`` back in receipts) plus ``Signature``.

**Signature** (Alibaba Cloud's RPC signature mechanism, signature version 1.0):

1. ``percentEncode(s)``: UTF-8 bytes; ``A-Z a-z 0-9 - _ . ~`` stay, every other byte becomes
   ``%XX`` in upper-case hex (so a space is ``%20``, ``*`` is ``%2A``, ``~`` stays).
2. Canonicalised query: every parameter but ``Signature``, sorted by name (byte order),
   each ``percentEncode(name) + "=" + percentEncode(value)``, joined with ``&``.
3. ``StringToSign = HTTPMethod + "&" + percentEncode("/") + "&" +
   percentEncode(canonicalisedQuery)``.
4. ``Signature = Base64(HMAC-SHA1(key = AccessKeySecret + "&", UTF-8 of StringToSign))``.

**Answer** (``Format=JSON``): ``{"Code", "Message", "BizId", "RequestId"}``. How each one
becomes an outcome (``domain/provider.py``):

- ``Code == "OK"`` → :class:`Accepted` with ``BizId``.
- throttling (``isv.BUSINESS_LIMIT_CONTROL``, the day and month limits, ``Throttling*``),
  the platform's own errors (``isp.SYSTEM_ERROR``, ``ServiceUnavailable``, ``InternalError``),
  HTTP 429 and any HTTP 5xx → :class:`RetryLater`: nothing was sent.
- any other code (``isv.MOBILE_NUMBER_ILLEGAL``, ``isv.TEMPLATE_MISSING_PARAMETERS``,
  ``isv.SMS_TEMPLATE_ILLEGAL``, ``isv.SMS_SIGNATURE_ILLEGAL``, ``InvalidAccessKeyId.NotFound``,
  ``SignatureDoesNotMatch`` ...) → :class:`FailedForGood` with the code and message.
- no connection, or a connection or pool timeout → :class:`RetryLater` (the request never
  left); a timeout or a dropped connection once it was sent, any other httpx error once it
  may have been sent (a body that cannot be decoded, e.g. a corrupt gzip), an answer longer
  than :data:`MAX_ANSWER_BYTES`, or a 2xx answer that cannot be read → :class:`Unknown`
  (requirements §8 Decision: reported, not repeated).
- a ``BizId`` that is not a printable single-line string of at most
  :data:`MAX_BIZ_ID_LENGTH` characters (the column that keeps it) is dropped with a warning:
  the SMS was accepted, only its receipt cannot be matched.

Segment awareness: when the request carries the text we rendered, Alibaba Cloud's length rule
(``domain/segments.py``: the ``【signature】`` counted, 70 in one message, 67 a part beyond)
gives :attr:`Accepted.parts`, and a text over its 500 limit is refused before sending.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import structlog
from complaint_contracts.privacy import redact_contacts

from notify.sms.domain.provider import (
    Accepted,
    FailedForGood,
    RetryLater,
    SmsOutcome,
    SmsRequest,
    Unknown,
)
from notify.sms.domain.segments import ALIYUN_MAX_LENGTH, aliyun_parts, aliyun_too_long

DEFAULT_ENDPOINT: Final = "https://dysmsapi.aliyuncs.com/"
API_VERSION: Final = "2017-05-25"
DEFAULT_REGION: Final = "cn-hangzhou"
UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
MAX_TEXT: Final = 300  # provider messages kept in outcomes (rows and logs take them)
MAX_ANSWER_BYTES: Final = 64 * 1024  # SendSms answers a few hundred bytes
MAX_BIZ_ID_LENGTH: Final = 100  # deliveries.provider_message_id is String(100)

log = structlog.get_logger(__name__)

RETRY_CODES: Final = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "ServiceUnavailable",
        "InternalError",
    }
)
TOO_LONG_CODE: Final = "notify.SMS_TOO_LONG"  # ours: refused before sending


def percent_encode(text: str) -> str:
    """Step 1 of the signature: RFC 3986 unreserved bytes stay, all others are ``%XX``."""
    return "".join(
        chr(byte) if byte in UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8")
    )


def canonical_query(params: Mapping[str, str]) -> str:
    """Step 2: sorted, encoded ``name=value`` pairs joined with ``&`` (``Signature`` left out)."""
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}"
        for name in sorted(params)
        if name != "Signature"
    )


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """Step 3: ``METHOD&%2F&percentEncode(canonical query)``."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """Step 4: Base64 of HMAC-SHA1 with the key ``AccessKeySecret + "&"``."""
    digest = hmac.new(
        f"{access_key_secret}&".encode(),
        string_to_sign(method, params).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def provider_phone_number(e164: str) -> str:
    """``+8613812345678`` → ``13812345678`` (domestic form); another country: digits only."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def _clean(text: object) -> str:
    """Provider text fit for rows and logs: contacts masked, length bounded."""
    return redact_contacts(str(text))[:MAX_TEXT]


class AliyunSmsProvider:
    """:class:`notify.sms.domain.provider.SmsProvider` for Alibaba Cloud SMS.

    The caller owns ``client`` (its timeouts bound every attempt) and passes the endpoint and
    the access key; ``clock`` and ``nonce`` exist so a test can fix them.
    """

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str = DEFAULT_ENDPOINT,
        region_id: str = DEFAULT_REGION,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        nonce: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("the access key id and secret are required")
        if httpx.URL(endpoint).scheme not in ("http", "https"):
            raise ValueError("the endpoint must be an http(s) URL")
        self._client = client
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._endpoint = endpoint
        self._region_id = region_id
        self._clock = clock
        self._nonce = nonce

    def signed_params(self, request: SmsRequest) -> dict[str, str]:
        """Every parameter of the request, ``Signature`` included (for the POST body)."""
        params = {
            "AccessKeyId": self._access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self._region_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self._nonce(),
            "SignatureVersion": "1.0",
            "Timestamp": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            "PhoneNumbers": provider_phone_number(request.phone_number),
            "SignName": request.sign_name,
            "TemplateCode": request.template_code,
            "OutId": request.out_id,
        }
        if request.template_params:
            params["TemplateParam"] = json.dumps(
                dict(request.template_params), ensure_ascii=False, separators=(",", ":")
            )
        params["Signature"] = signature("POST", params, self._access_key_secret)
        return params

    async def send(self, request: SmsRequest) -> SmsOutcome:
        """One attempt; every failure is an outcome, never an exception (module docstring)."""
        text = request.rendered_text
        if text is not None and aliyun_too_long(request.sign_name, text):
            return FailedForGood(
                TOO_LONG_CODE, f"longer than the {ALIYUN_MAX_LENGTH} Alibaba Cloud accepts"
            )
        parts = aliyun_parts(request.sign_name, text) if text is not None else None
        try:
            async with self._client.stream(
                "POST", self._endpoint, data=self.signed_params(request)
            ) as response:
                status = response.status_code
                if status >= 500 or status == 429:
                    return RetryLater(f"HTTP {status}")  # nothing was sent; body not needed
                body = await _read_at_most(response, MAX_ANSWER_BYTES)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return RetryLater(f"not sent: {type(exc).__name__}")
        except httpx.TransportError as exc:
            # Sent (or perhaps sent): a read/write timeout or a dropped connection.
            return Unknown(f"no answer after sending: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            # Any other httpx error once the request may have gone (DecodingError is a
            # RequestError, not a TransportError): the SMS may have been taken.
            return Unknown(f"unreadable answer after sending: {type(exc).__name__}")
        if body is None:
            return Unknown(f"HTTP {status} with an answer over {MAX_ANSWER_BYTES} bytes")
        return _outcome(status, body, parts)


async def _read_at_most(response: httpx.Response, limit: int) -> bytes | None:
    """The (decoded) body, or None when it is longer than ``limit`` bytes: the rest is
    never read (the connection is closed rather than drained)."""
    kept = bytearray()
    async for chunk in response.aiter_bytes():
        kept += chunk
        if len(kept) > limit:
            return None
    return bytes(kept)


def _outcome(status: int, body: bytes, parts: int | None) -> SmsOutcome:
    answer = _json(body)
    code = answer.get("Code")
    if not isinstance(code, str) or not code:
        if 200 <= status < 300:
            # Something answered 2xx: the message may have been taken.
            return Unknown(f"HTTP {status} with an answer that has no Code")
        return FailedForGood(f"HTTP {status}", "an answer that has no Code")
    message = _clean(answer.get("Message") or "")
    if code == "OK":
        return Accepted(_biz_id(answer.get("BizId")), parts)
    if code in RETRY_CODES or code.startswith("Throttling"):
        return RetryLater(message or code, code)
    return FailedForGood(_clean(code), message)


def _biz_id(value: object) -> str | None:
    """The provider's message id when it fits the column and a log line; else None (the
    SMS was taken: only its receipt will not match), with a warning."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) <= MAX_BIZ_ID_LENGTH and value.isprintable():
        return value
    shown = value[:40] if isinstance(value, str) else type(value).__name__
    log.warning("sms provider answered an unusable BizId; kept none", biz_id=repr(shown))
    return None


def _json(body: bytes) -> dict[str, Any]:
    """The answer's JSON object; an empty one when it is not JSON or not an object."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to parse
        return {}
    return answer if isinstance(answer, dict) else {}
