"""The inbound SMTP endpoint (``NOTIFY_REPLY_SMTP_PORT`` > 0): customers' replies and bounce
reports, received inside notify's own event loop.

RCPT is accepted only for a reply address whose tag is right, or the bounce address;
anything else gets 550 (nothing is relayed, nothing is stored for a made-up address). A
message larger than ``NOTIFY_REPLY_MAX_BYTES`` gets 552. DATA is answered 250 only after
what it means is committed (:func:`notify.replies.service.receive_email`); a failure to
store answers 451, so the sending server keeps the message and tries again: a reply once
accepted is never lost. Parsing the message and extracting its text run in a worker
thread (:func:`notify.replies.service.read_email`): whatever a message holds, notify's
event loop, which serves everything else, is not held up by it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from complaint_runtime.database import Database

from notify.replies import service
from notify.replies.addressing import ReplyAddressing

log = structlog.get_logger(__name__)


class ReplyHandler:
    """aiosmtpd's handler: the RCPT and DATA hooks."""

    def __init__(
        self,
        *,
        database: Database,
        addressing: ReplyAddressing,
        clock: Callable[[], datetime],
    ):
        self._database = database
        self._addressing = addressing
        self._clock = clock

    async def handle_RCPT(
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _rcpt_options: list[str],
    ) -> str:
        known = self._addressing.complaint_of(address) is not None
        if not known and not self._addressing.is_bounce_address(address):
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            email = await asyncio.to_thread(service.read_email, raw)
            outcome = await service.receive_email(
                database=self._database,
                addressing=self._addressing,
                recipients=list(envelope.rcpt_tos),
                email=email,
                now=self._clock(),
            )
        except Exception:
            log.exception("an inbound e-mail could not be stored; the sender will retry")
            return "451 4.3.0 Not stored, please try again later"
        log.info("inbound e-mail", outcome=outcome, size=len(raw))
        return "250 2.0.0 Accepted"


class ReplyEndpoint:
    """Listens while :meth:`run` runs (a background task of the service runtime)."""

    def __init__(self, *, handler: ReplyHandler, host: str, port: int, max_bytes: int):
        self._handler = handler
        self._host = host
        self._port = port
        self._max_bytes = max_bytes
        self._stopping = asyncio.Event()
        self.bound_port: int | None = None
        self.listening = asyncio.Event()  # set once the port is bound (tests wait for it)

    def _protocol(self) -> Any:
        return SMTP(
            self._handler,
            data_size_limit=self._max_bytes,
            enable_SMTPUTF8=True,
            hostname="opencomplaints-notify",
            ident="OpenComplaints notify",
            timeout=60,
        )

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(self._protocol, host=self._host, port=self._port)
        self.bound_port = server.sockets[0].getsockname()[1]
        self.listening.set()
        log.info("inbound SMTP endpoint listening", host=self._host, port=self.bound_port)
        try:
            await self._stopping.wait()
        finally:
            server.close()
            await server.wait_closed()

    def stop(self) -> None:
        self._stopping.set()
