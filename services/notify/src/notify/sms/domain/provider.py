"""The SMS provider interface: one request in, one of four outcomes out.

An adapter (``notify.sms.aliyun`` today) turns :class:`SmsRequest` into the provider's API
call and its answer into exactly one :class:`SmsOutcome`:

- :class:`Accepted`: the provider took the message (with its id for the send, ``BizId`` at
  Alibaba Cloud); the delivery receipt comes later (``receipts.py``).
- :class:`RetryLater`: certainly not sent (throttled, provider error 5xx, connection
  refused); sending again later cannot deliver twice.
- :class:`FailedForGood`: refused for a reason that a retry does not change (bad number,
  template or signature, credentials), with the provider's code and message.
- :class:`Unknown`: the request went out but no answer came (a timeout while reading, a
  dropped connection). The message may have been delivered. Requirements §8 Decision: such a
  send is reported as uncertain and never repeated blindly (Alibaba Cloud's SMS API offers no
  idempotency of its own; ``out_id`` only lets a receipt be matched to the delivery).

``out_id`` is our delivery id, the same on every attempt of one delivery, so receipts and the
provider's records can be matched to it whatever attempt produced them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

# ITU-T E.164: "+", a country code not starting with 0, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
MAX_OUT_ID = 256  # far above our ids (UUIDs); bounds what reaches the provider


@dataclass(frozen=True)
class SmsRequest:
    """One templated SMS to one E.164 number.

    Guarantees once built: the number is E.164, sign name, template code and out id are
    non-empty, every template parameter is a ``str`` → ``str`` pair, and the parameters cannot
    be changed afterwards (a read-only copy of the mapping given).
    ``rendered_text`` is optional: our own rendering of the template (without the signature),
    used only to count segments; the provider renders the message from the template itself.
    """

    phone_number: str
    sign_name: str
    template_code: str
    template_params: Mapping[str, str]
    out_id: str
    rendered_text: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not E164.fullmatch(self.phone_number):
            raise ValueError("phone_number must be E.164 (+ and 7 to 15 digits)")
        for name in ("sign_name", "template_code", "out_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string")
        if len(self.out_id) > MAX_OUT_ID:
            raise ValueError(f"out_id is longer than {MAX_OUT_ID} characters")
        params = dict(self.template_params)
        for key, value in params.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError("template_params must map str to str")
        object.__setattr__(self, "template_params", MappingProxyType(params))


@dataclass(frozen=True)
class Accepted:
    """The provider took the message; ``biz_id`` is its id for the send (None if it gave
    none), ``parts`` the segments it will bill when the text was known."""

    biz_id: str | None
    parts: int | None = None


@dataclass(frozen=True)
class RetryLater:
    """Certainly not sent; sending again later is safe. ``code`` is the provider's, if any."""

    reason: str
    code: str | None = None


@dataclass(frozen=True)
class FailedForGood:
    """Refused; a retry would be refused the same way."""

    code: str
    message: str


@dataclass(frozen=True)
class Unknown:
    """Sent, but whether it was accepted is not known: report it, never repeat it blindly."""

    reason: str


SmsOutcome = Accepted | RetryLater | FailedForGood | Unknown


class SmsProvider(Protocol):
    """What the delivery loop will call. ``send`` never raises for a provider's or a
    network's failure: every one of them is an outcome."""

    async def send(self, request: SmsRequest) -> SmsOutcome: ...
