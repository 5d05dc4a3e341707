"""uvicorn processes for the bench (one worker each, as the integration suite runs them)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UvicornProcess:
    """``uvicorn <app>`` on a free loopback port, in its own session, log to a file."""

    def __init__(
        self,
        name: str,
        app: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        factory: bool = True,
        app_dir: Path | None = None,
        python_prefix: Sequence[str] = (),
    ):
        self.name = name
        self.app = app
        self.env = env
        self.factory = factory
        self.app_dir = app_dir
        self.python_prefix = tuple(python_prefix)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("process is not set yet")
        return self.process.pid

    def start(self, *, timeout_s: float = 90) -> None:
        command = [sys.executable, *self.python_prefix, "-m", "uvicorn"]
        if self.factory:
            command.append("--factory")
        if self.app_dir is not None:
            command += ["--app-dir", str(self.app_dir)]
        command += [
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, **self.env, "PUBLIC_BASE_URL": self.url},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=ROOT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 30, sig: int = signal.SIGTERM) -> None:
        """Graceful stop; SIGINT lets a cProfile wrapper write its file (uvicorn re-raises
        the signal after shutting down, and SIGTERM's default action kills the process)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=timeout_s)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
