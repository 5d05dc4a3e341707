"""An SMTP sink (aiosmtpd, loopback) in the bench process that timestamps every accepted
message by recipient, so the bench can tell when a customer's acknowledgement arrived.

The timestamp is taken with ``time.monotonic()`` in ``handle_DATA``, i.e. when the server has
the whole message and is about to answer ``250``: the moment the SMTP server accepted it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller
from procs import free_port


class _Handler:
    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with self.sink.lock:
            self.sink.messages += 1
            for rcpt in envelope.rcpt_tos:
                address = rcpt.strip().lower()
                self.sink.by_domain[address.rpartition("@")[2]] += 1
                self.sink.first_at.setdefault(address, now)
                self.sink.received[address] += 1
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.messages = 0
        self.first_at: dict[str, float] = {}  # recipient -> monotonic time of the first mail
        self.received: Counter[str] = Counter()  # recipient -> messages
        self.by_domain: Counter[str] = Counter()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._running = False

    def start(self) -> None:
        self._controller.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._controller.stop()

    def accepted_at(self, address: str) -> float | None:
        with self.lock:
            return self.first_at.get(address.strip().lower())

    def count_to(self, address: str) -> int:
        with self.lock:
            return self.received[address.strip().lower()]

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"messages": self.messages, "by_domain": dict(self.by_domain)}
