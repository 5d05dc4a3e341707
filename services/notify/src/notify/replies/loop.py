"""Notify's reply machinery as the composition root builds it: the addressing (keys), the
forwarder loop, and the SMTP endpoint when ``NOTIFY_REPLY_SMTP_PORT`` is set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from complaint_runtime.consumer import TransientError
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop

from notify.adapters.internal_api import InternalApi
from notify.config import NotifySettings
from notify.messages.lookups import recipient_hash_key
from notify.replies import service
from notify.replies.addressing import ReplyAddressing
from notify.replies.smtp import ReplyEndpoint, ReplyHandler


@dataclass(frozen=True)
class Replies:
    addressing: ReplyAddressing
    forwarder: PeriodicLoop
    endpoint: ReplyEndpoint | None
    # The recipient-hash key: an SMS reply's number is recognised by it, never stored.
    hash_key: bytes


def build_replies(
    settings: NotifySettings,
    *,
    database: Database,
    api: InternalApi,
    clock: Callable[[], datetime],
) -> Replies:
    addressing = ReplyAddressing.from_settings(settings)
    backoff = service.Backoff(
        base_s=settings.notify_reply_forward_interval_s,
        max_s=settings.notify_reply_forward_backoff_max_s,
    )

    async def forward_round() -> bool:
        return await service.forward_due(database=database, api=api, backoff=backoff, now=clock)

    forwarder = PeriodicLoop(
        forward_round,
        name="reply-forwarder",
        tick_s=settings.notify_reply_forward_interval_s,
        max_backoff_s=settings.notify_reply_forward_backoff_max_s,
        is_expected=lambda exc: isinstance(exc, TransientError | OSError),
    )
    endpoint = None
    if settings.notify_reply_smtp_port > 0:
        endpoint = ReplyEndpoint(
            handler=ReplyHandler(database=database, addressing=addressing, clock=clock),
            host=settings.notify_reply_smtp_host,
            port=settings.notify_reply_smtp_port,
            max_bytes=settings.notify_reply_max_bytes,
        )
    return Replies(
        addressing=addressing,
        forwarder=forwarder,
        endpoint=endpoint,
        hash_key=recipient_hash_key(settings),
    )
