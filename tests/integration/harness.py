"""Runs the services as real processes (uvicorn) against the suite's Kafka and PostgreSQL,
so that tests can kill them with SIGKILL and start them again."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from complaint_runtime.database import Database
from intake.db import ComplaintRepository

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    def __init__(
        self, name: str, factory: str, env: dict[str, str], log_dir: Path, port: int | None = None
    ):
        self.name = name
        self.factory = factory
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(BIN / "uvicorn"),
                    "--factory",
                    self.factory,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                ],
                env={**os.environ, **self.env, "PUBLIC_BASE_URL": self.url},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=ROOT,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {timeout_s} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what a crash or OOM kill looks like."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(
    probe: Callable[[], T | None], *, timeout_s: float = 30, interval_s: float = 0.1, what: str = ""
) -> T:
    """Poll until ``probe`` returns something truthy; fail with what was awaited."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or probe}: {last!r}")


_POSTS = itertools.count(1)


def without_expected(sample: dict[str, object]) -> dict[str, object]:
    """A labelled sample as a front end would post it, from a customer of its own.

    Each call gives the customer fresh identifiers (id, phone, e-mail): the suite posts the
    same samples many times, and the same customer posting the same text again within 72 h
    is a duplicate that routing links instead of assigning (§4). Tests of duplicates build
    their bodies themselves.
    """
    body = {key: value for key, value in sample.items() if key != "expected"}
    customer = body.get("customer")
    if isinstance(customer, dict):
        n = next(_POSTS)
        customer = dict(customer)
        for field in ("customer_id", "external_ref"):
            if customer.get(field):
                customer[field] = f"{customer[field]}-p{n}"
        if customer.get("phone"):
            customer["phone"] = f"+86139{n:08d}"
        if customer.get("email"):
            local, _, domain = str(customer["email"]).partition("@")
            customer["email"] = f"{local}+p{n}@{domain}"
        body["customer"] = customer
    return body


def lifecycle(view: dict[str, Any]) -> list[str]:
    """The complaint-state events of a GET view's history, as short names, in order
    (SLA clocks, notifications and escalations — orthogonal to the state — are left out)."""
    prefix = "org.opencomplaints.complaint."
    names = [
        h["type"][len(prefix) :].rsplit(".", 1)[0]
        for h in view["history"]
        if h["type"].startswith(prefix)
    ]
    return [name for name in names if name != "escalated"]


def intake_projection(database_url: str, complaint_id: str) -> dict[str, Any]:
    """What intake projected for a complaint, read from its database: the derived facts no
    view of intake shows (a front end's key gets the customer's view) and every step of its
    history with its whole data (SLA clocks, notifications, internal data included)."""

    async def read() -> dict[str, Any]:
        database = Database(database_url)
        try:
            async with database.sessions() as session:
                repository = ComplaintRepository(session)
                complaint = await repository.get(complaint_id)
                history = await repository.history(complaint_id)
        finally:
            await database.dispose()
        assert complaint is not None, complaint_id
        return {
            "escalation_level": complaint.escalation_level,
            "duplicate_of": complaint.duplicate_of,
            "duplicate_of_reference": complaint.duplicate_of_reference,
            "history": [
                {
                    "event_id": e.event_id,
                    "type": e.event_type,
                    "time": e.occurred_at,
                    "data": e.data,
                }
                for e in history
            ],
        }

    return asyncio.run(read())
