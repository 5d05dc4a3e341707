"""The SMS channel: :class:`SmsSender` turns an :class:`OutgoingSms` into one provider call.

Guarantees (what the delivery loop relies on, see ``notify.adapters.outgoing``):

- Nothing reaches the provider unless the number is a mainland-China mobile number, our
  template has a provider template code (``NOTIFY_SMS_TEMPLATES``) and the text fits in
  ``NOTIFY_SMS_MAX_PARTS`` billed parts; each refusal is a *final* :class:`SendError` (the
  delivery falls back to the next channel), naming the reason and never the number.
- The provider's outcome maps one to one: accepted → :class:`SendReceipt` with the
  provider's message id (``BizId``, matched later by its delivery receipt); retry later →
  retryable; refused → final; unknown → *uncertain* (it may have gone out: never repeated,
  requirements §8 Decision).
- ``out_id`` is the delivery id on every attempt, so a receipt names the delivery whatever
  attempt it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final

import httpx
import structlog

from notify.adapters.channels import SendError
from notify.adapters.outgoing import OutgoingSms, SendReceipt
from notify.config import NotifySettings
from notify.sms.aliyun import AliyunSmsProvider
from notify.sms.domain.numbers import NotAMobileNumber, normalise_mainland_mobile
from notify.sms.domain.provider import (
    Accepted,
    FailedForGood,
    RetryLater,
    SmsProvider,
    SmsRequest,
    Unknown,
)
from notify.sms.domain.segments import aliyun_parts

log = structlog.get_logger(__name__)

# The whole call is bounded by a few of the client's per-phase timeouts (connect, write,
# read): a provider that drips its answer cannot hold a delivery slot for longer.
WHOLE_CALL_FACTOR: Final = 3.0


class SmsSender:
    """:class:`notify.adapters.outgoing.Sender` for SMS (module docstring). ``client``, when
    given, is the provider's HTTP client and is closed by :meth:`aclose`."""

    def __init__(
        self,
        *,
        provider: SmsProvider,
        sign_name: str,
        templates: Mapping[str, str],
        max_parts: int,
        timeout_s: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not sign_name.strip():
            raise ValueError("the sign name is required")
        if max_parts < 1:
            raise ValueError("max_parts must be at least 1")
        self._provider = provider
        self._sign_name = sign_name
        self._templates = dict(templates)
        self._max_parts = max_parts
        self._deadline_s = timeout_s * WHOLE_CALL_FACTOR
        self._client = client

    def parts_of(self, text: str) -> int:
        """The parts the provider bills for ``text`` with our signature (70 in one message,
        67 a part beyond)."""
        return aliyun_parts(self._sign_name, text)

    def request_for(self, message: OutgoingSms) -> SmsRequest:
        """The provider request for ``message``; a final :class:`SendError` when it cannot
        be sent by SMS at all (no template code, not a mobile number, too long)."""
        code = self._templates.get(message.template)
        if not code:
            raise SendError(
                f"no SMS template code for template {message.template!r} (NOTIFY_SMS_TEMPLATES)",
                retryable=False,
            )
        try:
            number = normalise_mainland_mobile(message.phone_number)
        except NotAMobileNumber as exc:
            # The reason's text never holds the number itself.
            raise SendError(f"SMS not sent: not a mobile number ({exc})", retryable=False) from exc
        parts = self.parts_of(message.text)
        if parts > self._max_parts:
            raise SendError(
                f"SMS not sent: the text takes {parts} parts, more than the "
                f"{self._max_parts} allowed (NOTIFY_SMS_MAX_PARTS)",
                retryable=False,
            )
        try:
            return SmsRequest(
                phone_number=number,
                sign_name=self._sign_name,
                template_code=code,
                template_params=message.params,
                out_id=message.delivery_id,
                rendered_text=message.text,
            )
        except ValueError as exc:
            raise SendError(f"SMS not sent: {exc}", retryable=False) from exc

    async def send(self, message: OutgoingSms) -> SendReceipt:
        """One attempt at the provider; raises :class:`SendError` unless it took the SMS."""
        request = self.request_for(message)
        try:
            async with asyncio.timeout(self._deadline_s):
                outcome = await self._provider.send(request)
        except TimeoutError as exc:
            # The request may have been sent: reported, never repeated.
            raise SendError(
                f"SMS outcome unknown: no answer within {self._deadline_s:g} s",
                retryable=False,
                uncertain=True,
            ) from exc
        match outcome:
            case Accepted(biz_id=biz_id, parts=parts):
                log.info(
                    "sms accepted",
                    delivery_id=message.delivery_id,
                    template=message.template,
                    parts=parts,
                    has_biz_id=biz_id is not None,
                )
                return SendReceipt(channel="sms", provider_message_id=biz_id)
            case RetryLater(reason=reason, code=code):
                raise SendError(
                    f"SMS provider busy or unavailable: {code + ': ' if code else ''}{reason}",
                    retryable=True,
                )
            case FailedForGood(code=code, message=text):
                raise SendError(f"SMS provider refused: {code}: {text}", retryable=False)
            case Unknown(reason=reason):
                raise SendError(f"SMS outcome unknown: {reason}", retryable=False, uncertain=True)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def make_sms_sender(settings: NotifySettings) -> SmsSender | None:
    """The configured SMS channel; None when ``NOTIFY_SMS_PROVIDER=none`` (the default).
    The settings were checked at start (``NotifySettings``)."""
    if settings.notify_sms_provider == "none":
        return None
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.notify_sms_timeout_s), follow_redirects=False
    )
    provider = AliyunSmsProvider(
        client=client,
        access_key_id=settings.notify_sms_access_key_id,
        access_key_secret=settings.notify_sms_access_key_secret,
        endpoint=settings.notify_sms_endpoint,
    )
    return SmsSender(
        provider=provider,
        sign_name=settings.notify_sms_sign_name,
        templates=settings.notify_sms_templates,
        max_parts=settings.notify_sms_max_parts,
        timeout_s=settings.notify_sms_timeout_s,
        client=client,
    )
