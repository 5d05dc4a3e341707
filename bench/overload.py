"""The overload phase: an open loop at ``--overload-factor`` times the rate intake sustained
in the throughput phase of the same run (all five services running), for
``--overload-duration`` seconds.

What it shows: how intake answers when it is offered more than it can take. Intake is meant
to shed load with 503 + ``Retry-After`` once too many submissions are in flight; without
that, every request is queued and the POST latency grows for as long as the overload lasts
(compare the p99 of the first and the last third). 503 and 429 answers are counted, not
treated as failures.

The sender: raw HTTP/1.1 on asyncio (uvloop) in the bench process, one POST started every
1/rate s whatever the answers, on a pool of keep-alive connections (a new one is opened when
all are busy, up to ``MAX_CONNECTIONS``; beyond that a request waits for a free one). Each
latency is taken from the moment the request was due, so time spent waiting for a
connection or behind a late sender counts (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import resource
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from common import fmt_pct, say, step
from intake_bench import Loader
from latency import percentiles_ms

MAX_CONNECTIONS = 1024
ANSWER_TIMEOUT_S = 30.0
_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_RETRY_AFTER = re.compile(rb"(?i)\r\nretry-after:")
_CLOSE = re.compile(rb"(?i)\r\nconnection:\s*close")

_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Shot:
    due: float  # seconds from the start of the run
    latency: float | None = None  # answer read - due
    status: int | None = None
    retry_after: bool = False
    error: str | None = None


class _Pool:
    """Keep-alive connections to one server: reuse an idle one, else open one (up to
    ``limit``), else wait for one to come back."""

    def __init__(self, host: str, port: int, limit: int):
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[_Conn] = []
        self.open = 0
        self.peak = 0
        self.waiters: collections.deque[asyncio.Future[_Conn | None]] = collections.deque()

    async def get(self) -> _Conn:
        if self.idle:
            return self.idle.pop()
        if self.open >= self.limit:
            fut: asyncio.Future[_Conn | None] = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
            conn = await fut
            if conn is not None:
                return conn
        # A free slot: open a new connection.
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            return await asyncio.open_connection(self.host, self.port)
        except BaseException:
            self._slot_freed()
            raise

    def put(self, conn: _Conn) -> None:
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return
        self.idle.append(conn)

    def discard(self, conn: _Conn) -> None:
        conn[1].close()
        self._slot_freed()

    def _slot_freed(self) -> None:
        self.open -= 1
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _shoot(pool: _Pool, request: bytes, shot: Shot, t0: float) -> None:
    conn: _Conn | None = None
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            conn = await pool.get()
            reader, writer = conn
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = _CONTENT_LENGTH.search(head)
            if match:
                await reader.readexactly(int(match.group(1)))
        shot.latency = time.monotonic() - t0 - shot.due
        shot.status = int(head[9:12])
        shot.retry_after = bool(_RETRY_AFTER.search(head))
        if _CLOSE.search(head):
            pool.discard(conn)
        else:
            pool.put(conn)
    except TimeoutError:
        shot.error = "timeout"
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        shot.error = type(exc).__name__
    if shot.error is not None and conn is not None:
        pool.discard(conn)


async def _open_loop(
    url: str, requests: list[bytes], rate_per_s: float, duration_s: float
) -> tuple[list[Shot], dict[str, Any]]:
    parts = urlsplit(url)
    pool = _Pool(parts.hostname or "127.0.0.1", parts.port or 80, MAX_CONNECTIONS)
    total = max(int(rate_per_s * duration_s), 1)
    shots: list[Shot] = []
    tasks: list[asyncio.Task[None]] = []
    late = 0
    t0 = time.monotonic()
    for i in range(total):
        due = i / rate_per_s
        delay = t0 + due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        shot = Shot(due=due)
        shots.append(shot)
        tasks.append(asyncio.create_task(_shoot(pool, requests[i % len(requests)], shot, t0)))
    send_window = time.monotonic() - t0
    await asyncio.gather(*tasks)
    pool.close()
    return shots, {
        "sent": total,
        "send_window_s": round(send_window, 2),
        "achieved_rate_per_s": round(total / send_window, 1) if send_window > 0 else 0.0,
        "late_sends": late,
        "answers_done_after_s": round(time.monotonic() - t0, 2),
        "peak_connections": pool.peak,
    }


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = MAX_CONNECTIONS * 2 + 256
    if soft < want and (hard == resource.RLIM_INFINITY or hard > soft):
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _summarize(shots: list[Shot], duration_s: float) -> dict[str, Any]:
    statuses = collections.Counter(s.status for s in shots if s.status is not None)
    errors = collections.Counter(s.error for s in shots if s.error is not None)
    answered = [s for s in shots if s.latency is not None]
    latencies = [s.latency for s in shots if s.latency is not None]
    third = duration_s / 3

    def p99_between(lo: float, hi: float) -> float:
        window = [s.latency for s in shots if s.latency is not None and lo <= s.due < hi]
        return percentiles_ms(window).get("p99", 0.0)

    def retry_after(status: int) -> dict[str, int]:
        with_header = sum(1 for s in answered if s.status == status and s.retry_after)
        return {"with": with_header, "without": statuses.get(status, 0) - with_header}

    return {
        "answers": {
            "201": statuses.get(201, 0),
            "503": statuses.get(503, 0),
            "429": statuses.get(429, 0),
            "other": {str(k): v for k, v in statuses.items() if k not in (201, 503, 429)},
            "connection_errors": dict(errors),
        },
        "post_ms_201": percentiles_ms(
            [s.latency for s in shots if s.latency is not None and s.status == 201]
        ),
        "post_ms_all": percentiles_ms(latencies),
        "retry_after": {"503": retry_after(503), "429": retry_after(429)},
        "p99_first_third_ms": p99_between(0, third),
        "p99_last_third_ms": p99_between(2 * third, duration_s + 1),
    }


def run_overload(
    *,
    url: str,
    headers: dict[str, str],
    loader: Loader,
    sustained_per_s: float,
    factor: float,
    duration_s: float,
) -> dict[str, Any]:
    """Offer ``factor`` x ``sustained_per_s`` POSTs/s for ``duration_s`` s; the counts.
    The bodies are the next ones of ``loader``'s rotation (no customer repeats a complaint)."""
    rate = max(sustained_per_s * factor, 1.0)
    bodies = loader.take(int(rate * duration_s) + 1)
    step(
        f"overload: {rate:,.0f} POSTs/s open loop ({factor:g} x intake's {sustained_per_s:,.0f}"
        f"/s of the throughput phase) for {duration_s:.0f} s ..."
    )
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}"
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [
        (
            f"POST /v1/complaints HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
            f"\r\n{head}Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]
    _raise_fd_limit()
    cpu0 = time.process_time()
    try:
        import uvloop

        shots, run = uvloop.run(_open_loop(url, requests, rate, duration_s))
    except ImportError:
        shots, run = asyncio.run(_open_loop(url, requests, rate, duration_s))
    run["sender_cpu_s"] = round(time.process_time() - cpu0, 2)
    result = {
        "offered_rate_per_s": round(rate, 1),
        "factor": factor,
        "sustained_rate_per_s": round(sustained_per_s, 1),
        "duration_s": duration_s,
        **run,
        **_summarize(shots, duration_s),
        "method": (
            "raw HTTP/1.1 open loop on asyncio in the bench process, keep-alive pool of at "
            f"most {MAX_CONNECTIONS} connections; latency from the moment each POST was due; "
            f"{ANSWER_TIMEOUT_S:.0f} s answer timeout"
        ),
    }
    describe_overload(result)
    return result


def describe_overload(o: dict[str, Any]) -> None:
    a = o["answers"]
    say(
        f"    {o['sent']:,} sent in {o['send_window_s']} s (achieved {o['achieved_rate_per_s']:,}"
        f"/s, {o['late_sends']:,} late), last answer after {o['answers_done_after_s']} s, "
        f"peak {o['peak_connections']} connections, sender CPU {o['sender_cpu_s']} s"
    )
    say(
        f"    answers: 201 {a['201']:,}, 503 {a['503']:,}, 429 {a['429']:,}, other "
        f"{a['other'] or 0}, connection errors {a['connection_errors'] or 0}"
    )
    ra = o["retry_after"]
    say(
        f"    Retry-After: on {ra['503']['with']}/{a['503']} 503s and "
        f"{ra['429']['with']}/{a['429']} 429s"
    )
    say(f"    POST latency, 201s: {fmt_pct(o['post_ms_201'])}")
    say(f"    POST latency, all answers: {fmt_pct(o['post_ms_all'])}")
    say(f"    {verdict(o)}")


def grows(o: dict[str, Any]) -> bool:
    """The last third's p99 well above the first's: requests queue up without bound."""
    return o["p99_last_third_ms"] > 1.5 * max(o["p99_first_third_ms"], 100.0)


def verdict(o: dict[str, Any]) -> str:
    """One line: does intake shed the excess, or does its latency grow?"""
    a = o["answers"]
    shed = a["503"] + a["429"]
    trend = (
        f"p99 first third {o['p99_first_third_ms']:,.0f} ms -> last third "
        f"{o['p99_last_third_ms']:,.0f} ms"
    )
    if grows(o):
        return f"{trend}: GROWING (requests queue up instead of being shed)"
    if shed:
        return f"{trend}: bounded, {shed:,} shed with 503/429"
    return f"{trend}: bounded, nothing shed (intake kept up or queued at a steady depth)"
