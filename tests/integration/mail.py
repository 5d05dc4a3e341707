"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for the tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from harness import free_port


@dataclass(frozen=True)
class ReceivedMail:
    recipients: tuple[str, ...]
    message: EmailMessage
    received_at: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(
                ReceivedMail(tuple(envelope.rcpt_tos), message, time.monotonic())
            )
        if self.sink.hold_for in envelope.rcpt_tos:
            # Accepted, but the answer is held back: a sender killed now never learns that
            # its message went through — the window a notifier must not resend in.
            self.sink.data_started.set()
            await asyncio.sleep(self.sink.delay_s)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.lock = threading.Lock()
        self.delay_s = 0.0
        self.hold_for = ""
        self.data_started = threading.Event()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def to(self, recipient: str) -> list[ReceivedMail]:
        with self.lock:
            return [m for m in self.messages if recipient in m.recipients]

    def wait_quiet(self, quiet_s: float = 2.0, timeout_s: float = 120.0) -> None:
        """Wait until nothing has arrived for ``quiet_s`` (earlier tests' mail drained)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                last = self.messages[-1].received_at if self.messages else 0.0
            if time.monotonic() - last >= quiet_s:
                return
            time.sleep(0.2)
        raise AssertionError(f"mail still arriving after {timeout_s} s")
