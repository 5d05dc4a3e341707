"""What every bench phase shares: output, options' environment defaults, machine facts, CPU
bookkeeping, waiting for a quiet machine, and the environment every service gets."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from complaint_devinfra.infra import Infrastructure
from complaint_runtime.dev_identity import DevIdentity
from procs import ROOT, UvicornProcess
from procstat import CpuSampler, Group, descendants

BENCH_DIR = Path(__file__).resolve().parent
FIXTURES = ROOT / "tests" / "fixtures" / "complaints.jsonl"
# Distinct customers per fixture sample: enough that a throughput run rarely repeats one.
BENCH_CUSTOMERS = 1000
RUN_DIR = ROOT / ".run"


def say(message: str = "") -> None:
    print(message, flush=True)


def step(message: str) -> None:
    say(f"[{time.strftime('%H:%M:%S')}] {message}")


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def describe_cpu(cpu: dict[str, float]) -> str:
    parts = [f"{k} {v:.0f}%" for k, v in cpu.items() if k != "machine"]
    return (
        "CPU (100% = one core): "
        + ", ".join(parts)
        + f"; machine {cpu.get('machine', 0):.0f}% of all cores"
    )


# The most seconds ``quiesce`` waits by default; run.py lowers it for --quick.
QUIESCE_TIMEOUT_S = {"default": 20.0}


def quiesce(
    groups: list[Group] | None = None,
    threshold_pct: float = 15.0,
    timeout_s: float | None = None,
) -> None:
    """Wait (bounded) until the machine is nearly idle, e.g. Kafka's JIT after start-up."""
    if timeout_s is None:
        timeout_s = QUIESCE_TIMEOUT_S["default"]
    deadline = time.monotonic() + timeout_s
    cpu: dict[str, float] = {"machine": 100.0}
    while time.monotonic() < deadline:
        probe = CpuSampler(groups or [])
        probe.start()
        time.sleep(1.0)
        cpu = probe.stop()
        if cpu["machine"] < threshold_pct:
            return
    add_other(cpu)
    ours = {k: v for k, v in cpu.items() if k not in ("machine", "other processes") and v >= 5}
    say(
        f"    note: machine still {cpu['machine']:.0f}% busy before measuring: processes the "
        f"bench did not start {cpu['other processes']:.0f}% of a core"
        + (f", ours {ours}" if ours else "")
    )


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def wait_for_quiet_machine(threshold: float, max_wait_s: float) -> dict[str, Any]:
    """Other test runs share this machine: before starting anything, wait (bounded) until
    the 1-minute load average is below ``threshold``."""
    started = time.monotonic()
    first = loadavg()
    say(
        f"    load average now {first[0]:.2f} / {first[1]:.2f} / {first[2]:.2f} (1/5/15 min); "
        f"waiting until the 1-minute figure is below {threshold:.2f}, at most {max_wait_s:.0f} s"
    )
    current = first
    next_report = started + 30
    while current[0] >= threshold and time.monotonic() - started < max_wait_s:
        time.sleep(5)
        current = loadavg()
        if time.monotonic() >= next_report:
            say(f"    ... {time.monotonic() - started:.0f} s: 1-minute load {current[0]:.2f}")
            next_report += 30
    waited = time.monotonic() - started
    quiet = current[0] < threshold
    say(
        f"    waited {waited:.0f} s: 1-minute load {current[0]:.2f} "
        + ("(quiet)" if quiet else f"-- still >= {threshold:.2f}, measuring anyway")
    )
    return {
        "threshold": threshold,
        "load_at_start": first,
        "load_when_started": current,
        "waited_s": round(waited, 1),
        "quiet": quiet,
    }


def add_other(cpu: dict[str, float]) -> None:
    """CPU of processes the bench did not start (another session's tests would show here)."""
    ours = sum(v for k, v in cpu.items() if k != "machine")
    cpu["other processes"] = round(max(cpu["machine"] * (os.cpu_count() or 1) - ours, 0.0), 1)


def busiest(cpu: dict[str, float]) -> tuple[str, float]:
    named = {k: v for k, v in cpu.items() if k != "machine"}
    name = max(named, key=lambda k: named[k])
    return name, named[name]


def self_pids() -> list[int]:
    return [os.getpid()]


def pid_of(proc: UvicornProcess) -> Callable[[], list[int]]:
    return lambda: [proc.pid] if proc.process is not None else []


def common_env(bootstrap_servers: str, service: str) -> dict[str, str]:
    """What tests/integration/conftest.py gives every service (token keys made per run)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        **_IDENTITY.env(service),
        "LOG_JSON": "true",
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        "CONSUMER_RETRY_BACKOFF_S": "0.05",
        "RETRY_AFTER_S": "2",
        "DB_STATEMENT_TIMEOUT_S": "3",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
    }


_IDENTITY = DevIdentity.generate()


def fmt_pct(p: dict[str, float]) -> str:
    if not p:
        return "n/a"
    return ", ".join(f"{k} {p[k]:,.0f} ms" for k in ("p50", "p90", "p99", "max") if k in p)


def infra_groups(infra: Infrastructure) -> list[Group]:
    """PostgreSQL (with its backends) and Kafka as CPU groups; the bench process too."""

    def pg_pids() -> list[int]:
        pid = getattr(infra.started_postgres, "pid", None)
        return descendants(pid) if pid else []

    def kafka_pids() -> list[int]:
        pid = getattr(infra.started_kafka, "pid", None)
        return descendants(pid) if pid else []

    return [Group("postgres", pg_pids), Group("kafka", kafka_pids), Group("bench", self_pids)]


def rss_mib(pid: int) -> float:
    """Resident set size of one process from /proc (psutil is not in the lockfile); 0 if gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
