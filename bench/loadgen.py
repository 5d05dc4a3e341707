"""Closed-loop HTTP load: N keep-alive connections, each sends its next POST as soon as the
previous answer is read. Two generators:

* ``wrk`` (C, epoll; Debian package ``wrk``) -- preferred: it takes little CPU away from the
  server on a 2-core machine. Requests still in flight when its duration ends are dropped
  unread (the server may still commit them).
* ``python`` -- asyncio raw HTTP/1.1 with uvloop, in the bench process. It competes with the
  server for the same cores (more than wrk does); it stops sending at the deadline and reads
  every answer still in flight, so its status counts are exact.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    tool: str
    connections: int
    duration_s: float
    statuses: dict[int, int]
    errors: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    loadgen_cpu_pct: float = 0.0
    drained: bool = False  # True: answers in flight at the end were read and counted

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def rate(self, status: int = 201) -> float:
        return self.count(status) / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "connections": self.connections,
            "duration_s": round(self.duration_s, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "latency_ms": self.latency_ms,
            "loadgen_cpu_pct": self.loadgen_cpu_pct,
            "rate_201_per_s": round(self.rate(201), 1),
            "in_flight_answers_read": self.drained,
        }


# ---------------------------------------------------------------------------------- wrk


def ensure_wrk(*, allow_install: bool) -> str | None:
    """Path of wrk; installs the Debian package when missing and allowed (root + apt-get)."""
    found = shutil.which("wrk")
    if found or not allow_install:
        if not found:
            print("  wrk not found and --no-install given", flush=True)
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("  wrk not found; installing needs root and apt-get (apt-get install wrk)")
        return None
    print("  wrk not found: installing the Debian package (apt-get install -y wrk) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ("install", "update+install"):
        if attempt == "update+install":
            print("  apt-get install failed; running apt-get update and trying again ...")
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and shutil.which("wrk"):
            print(f"  installed {shutil.which('wrk')}")
            return shutil.which("wrk")
    print(f"  could not install wrk: {done.stderr.strip()[-300:]}")
    return None


def _lua_long_string(text: str) -> str:
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def _wrk_script(path: str, bodies: Sequence[bytes], headers: dict[str, str]) -> str:
    body_list = ",\n".join(_lua_long_string(b.decode()) for b in bodies)
    header_list = ", ".join(
        f"[ {_lua_long_string(k)} ] = {_lua_long_string(v)}" for k, v in headers.items()
    )
    return f"""
local bodies = {{
{body_list}
}}
local hdrs = {{ {header_list} }}
local path = {_lua_long_string(path)}
local threads = {{}}
local n = 0
counts = {{}}

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  n = offset or 0
end

function request()
  n = n + 1
  return wrk.format("POST", path, hdrs, bodies[(n % #bodies) + 1])
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {{}}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for status, k in pairs(c) do total[status] = (total[status] or 0) + k end
  end
  for status, k in pairs(total) do io.write(string.format("BENCH status %d %d\\n", status, k)) end
  local e = summary.errors
  io.write(string.format("BENCH errors %d %d %d %d %d\\n",
    e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format("BENCH duration_us %d\\n", summary.duration))
  io.write(string.format("BENCH requests %d\\n", summary.requests))
  for _, p in ipairs({{50, 90, 99}}) do
    io.write(string.format("BENCH p%d %f\\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH max %f\\n", latency.max))
end
"""


def run_wrk(
    wrk: str,
    *,
    url: str,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    threads: int,
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(path, bodies, headers))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(round(duration_s), 1)}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        Path(script.name).unlink(missing_ok=True)
    if done.returncode != 0 or "BENCH duration_us" not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    latency: dict[str, float] = {}
    duration = wall
    for line in done.stdout.splitlines():
        parts = line.split()
        if not parts or parts[0] != "BENCH":
            continue
        if parts[1] == "status":
            statuses[int(parts[2])] = int(parts[3])
        elif parts[1] == "errors":
            names = ("connect", "read", "write", "status", "timeout")
            errors = {n: int(v) for n, v in zip(names, parts[2:], strict=True) if n != "status"}
        elif parts[1] == "duration_us":
            duration = int(parts[2]) / 1e6
        elif re.fullmatch(r"p\d+|max", parts[1]):
            latency[parts[1]] = round(float(parts[2]) / 1000, 2)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return LoadResult(
        tool=f"wrk ({threads} thread{'s' if threads > 1 else ''})",
        connections=connections,
        duration_s=duration,
        statuses=statuses,
        errors=errors,
        latency_ms=latency,
        loadgen_cpu_pct=round(100 * cpu / wall, 1),
        drained=False,
    )


# ------------------------------------------------------------------------------- python


class _Stats:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.latencies: list[float] = []


async def _connection_loop(
    host: str,
    port: int,
    requests: Sequence[bytes],
    offset: int,
    deadline: float,
    stats: _Stats,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = offset
    try:
        while time.monotonic() < deadline:
            n += 1
            started = time.perf_counter()
            writer.write(requests[n % len(requests)])
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                stats.errors["read"] += 1
                return
            status = int(head[9:12])
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if match:
                await reader.readexactly(int(match.group(1)))
            stats.latencies.append(time.perf_counter() - started)
            stats.statuses[status] += 1
    finally:
        writer.close()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)}


def run_python(
    *,
    url: str,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    connections: int,
    duration_s: float,
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    header_lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{header_lines}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]
    stats = _Stats()

    async def main() -> float:
        started = time.monotonic()
        deadline = started + duration_s
        await asyncio.gather(
            *(
                _connection_loop(host, port, requests, i * 7, deadline, stats)
                for i in range(connections)
            )
        )
        return time.monotonic() - started

    cpu0 = time.process_time()
    try:
        import uvloop

        elapsed = uvloop.run(main())
    except ImportError:
        elapsed = asyncio.run(main())
    cpu = time.process_time() - cpu0
    return LoadResult(
        tool="python asyncio (in the bench process)",
        connections=connections,
        duration_s=elapsed,
        statuses=dict(stats.statuses),
        errors=dict(stats.errors),
        latency_ms=_percentiles(stats.latencies),
        loadgen_cpu_pct=round(100 * cpu / elapsed, 1),
        drained=True,
    )


def fixture_bodies(path: Path, *, customers: int = 1) -> list[bytes]:
    """The labelled samples without their ``expected`` key, as front ends would post them,
    each posted by ``customers`` different customers (own id, phone and e-mail): routing links
    the same customer's near-identical complaints as duplicates, so a load of copies of 36
    samples would measure duplicate linking, not triage and assignment."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            sample = json.loads(line)
            sample.pop("expected", None)
            samples.append(sample)
    bodies = []
    for n in range(customers):
        for i, sample in enumerate(samples):
            if customers > 1:
                sample = with_customer(sample, n * len(samples) + i)
            bodies.append(json.dumps(sample, ensure_ascii=False).encode())
    return bodies


def with_customer(sample: dict[str, Any], number: int) -> dict[str, Any]:
    """The sample as posted by bench customer ``number`` (a unique id, phone and e-mail)."""
    customer = dict(sample["customer"])
    customer["external_ref"] = f"bench-{number}"
    if "phone" in customer:
        customer["phone"] = f"+86139{number:08d}"
    if "email" in customer:
        customer["email"] = f"bench-{number}@customers.example.com"
    return {**sample, "customer": customer}
