"""The sla phase: sla-watch alone, as its own uvicorn process, on the bench's Kafka and
PostgreSQL (fsync on), with ``--clocks`` open running clocks in its table.

1. load: sla-watch starts once to migrate its database, then the clocks are COPYed in
   (24x7 calendar; next thresholds spread at ``--sla-rate`` per second from 30 min on, so
   none falls due during the phase) and the table is vacuumed and analyzed;
2. steady state: sla-watch runs; ``rate x window`` more clocks are COPYed whose next
   thresholds fall due during the window at that rate; each warning/breach is timed from
   its due instant to its Kafka record timestamp;
3. RSS of the sla-watch process, sampled the whole time it runs;
4. downtime catch-up: sla-watch stopped, ``rate x downtime`` clocks placed whose thresholds
   fell due during the past ``--sla-downtime`` seconds; sla-watch started; time until all
   those events are out, and whether they say late=true;
5. arming: sla-watch stopped, ``--triaged`` complaint.triaged events produced on the routing
   topic; sla-watch started; complaints armed per second (2 clocks each) compared with a
   plain aiokafka consumer reading the same backlog.
All clocks the phase adds count towards ``--clocks``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from common import add_other, common_env, infra_groups, pid_of, rss_mib, say, step
from complaint_contracts import topics
from complaint_devinfra.infra import Infrastructure
from pgwatch import ActivitySampler, plain_dsn
from procs import UvicornProcess
from procstat import CpuSampler, Group
from sla_clocks import ClockRows, copy_placed, copy_rows, execute, spread
from sla_kafka import SlaTopicWatch, end_offsets, place_group, produce_triaged, raw_consume
from sla_report import check_late, describe, match, summarize_sla

BULK_LEAD_S = 1800.0  # the loaded clocks' first thresholds lie beyond the phase's end
_DUE_PLAN = (
    "EXPLAIN SELECT clock_id FROM clocks WHERE state = 'running' AND next_fire_at <= now() "
    "ORDER BY next_fire_at LIMIT 500 FOR UPDATE SKIP LOCKED"
)


def run_sla(
    args: argparse.Namespace,
    *,
    infra: Infrastructure,
    log_dir: Path,
    services: list[UvicornProcess],
) -> dict[str, Any]:
    if args.quick:
        args.clocks, args.sla_window = min(args.clocks, 20_000), min(args.sla_window, 20)
        args.triaged = min(args.triaged, 2000)
    return asyncio.run(SlaPhase(args, infra, log_dir, services).run())


class SlaPhase:
    def __init__(
        self,
        args: argparse.Namespace,
        infra: Infrastructure,
        log_dir: Path,
        services: list[UvicornProcess],
    ):
        self.args = args
        self.infra = infra
        self.bootstrap = infra.kafka.bootstrap_servers
        url = infra.postgres.create_database("sla_bench")
        self.dsn = plain_dsn(url)
        self.proc = UvicornProcess("sla-watch-bench", "sla_watch.main:create_app", {}, log_dir)
        self.proc.env = {
            **common_env(self.bootstrap, "sla-watch"),
            "SERVICE_NAME": "sla-watch",
            "DATABASE_URL": url,
            "SLA_TICK_S": str(args.sla_tick),
            "SLA_LATE_AFTER_S": str(args.sla_late_after),
        }
        services.append(self.proc)
        self.groups = [Group("sla-watch", pid_of(self.proc)), *infra_groups(infra)]
        self.rss: dict[str, float] = {}
        self.stage = "start"
        self.watch = SlaTopicWatch(self.bootstrap)
        self.builder = ClockRows()
        rate = args.sla_rate
        if rate * (args.sla_window + args.sla_downtime) > args.clocks / 2:
            rate = args.clocks / 2 / (args.sla_window + args.sla_downtime)
            say(f"    note: --clocks {args.clocks:,} is small: rate lowered to {rate:.1f}/s")
        self.rate = rate
        self.steady_n = round(rate * args.sla_window)
        self.late_n = round(rate * args.sla_downtime)
        self.bulk_n = args.clocks - self.steady_n - self.late_n

    # ------------------------------------------------------------------ process control

    async def start_service(self) -> tuple[float, float]:
        spawned = time.time()
        await asyncio.to_thread(self.proc.start, timeout_s=180)
        return spawned, time.time() - spawned

    async def stop_service(self) -> float:
        t0 = time.monotonic()
        await asyncio.to_thread(self.proc.stop)
        return time.monotonic() - t0

    async def sample_rss(self) -> None:
        while True:
            if self.proc.process is not None and self.proc.process.poll() is None:
                rss = rss_mib(self.proc.pid)
                self.rss[self.stage] = max(self.rss.get(self.stage, 0.0), rss)
            await asyncio.sleep(0.5)

    def cpu(self) -> CpuSampler:
        sampler = CpuSampler(self.groups)
        sampler.start()
        return sampler

    @staticmethod
    def stop_cpu(sampler: CpuSampler) -> dict[str, float]:
        cpu = sampler.stop()
        add_other(cpu)
        return cpu

    # ------------------------------------------------------------------ the phase

    async def run(self) -> dict[str, Any]:
        args = self.args
        step(
            f"sla: {args.clocks:,} clocks = {self.bulk_n:,} loaded + {self.steady_n:,} for the "
            f"steady window + {self.late_n:,} for the catch-up; {self.rate:.1f} thresholds/s"
        )
        # Kafka keeps the "sla-watch" group's offsets of the platform phases: start from the
        # topics' current ends, so this sla-watch reads only the backlog the bench produces.
        ends = {
            t.name: await end_offsets(self.bootstrap, t.name, t.partitions)
            for t in (topics.ROUTING, topics.INTAKE)
        }
        await place_group(self.bootstrap, "sla-watch", ends)
        rss_task = asyncio.create_task(self.sample_rss())
        await self.watch.start()
        try:
            result: dict[str, Any] = {"clocks": args.clocks, "rate_per_s": round(self.rate, 2)}
            result["load"] = await self.load()
            result["steady"] = await self.steady()
            result["catch_up"] = await self.catch_up()
            result["arming"] = await self.arming()
        finally:
            rss_task.cancel()
            await self.watch.stop()
            await self.stop_service()
        result["rss_max_mib"] = {k: round(v, 1) for k, v in self.rss.items()}
        result["rss_limit"] = (
            "RSS by stage " + ", ".join(f"{k} {v:,.0f}" for k, v in self.rss.items()) + " MiB; "
            "the clocks stay in PostgreSQL, a firing round holds at most SLA_FIRE_BATCH (500) "
            "rows and a consumer poll at most 500 records, so RSS is the interpreter and its "
            "libraries plus those batches, whatever the number of clocks"
        )
        summarize_sla(result)
        return result

    async def load(self) -> dict[str, Any]:
        args = self.args
        step("sla load: starting sla-watch once to migrate its database ...")
        _, migrate_s = await self.start_service()
        await self.stop_service()
        say(f"    migrated and ready in {migrate_s:.1f} s, stopped again")
        step(f"sla load: COPY {self.bulk_n:,} clocks in chunks of {args.sla_chunk:,} ...")
        first = time.time() + BULK_LEAD_S
        chunk = args.sla_chunk

        def chunks() -> Iterator[list[float]]:
            for start in range(0, self.bulk_n, chunk):
                n = min(chunk, self.bulk_n - start)
                yield spread(n, first=first + start / self.rate, rate_per_s=self.rate)

        # One connection for the whole load: the CPU sampler sees its backend only while
        # the backend lives.
        conn = await asyncpg.connect(self.dsn)
        try:
            t0 = time.monotonic()
            cpu = self.cpu()
            copied = await copy_rows(conn, self.builder, chunks(), total=self.bulk_n, progress=say)
            t1 = time.monotonic()
            await conn.execute("VACUUM (ANALYZE) clocks")
            t2 = time.monotonic()
            load_cpu = self.stop_cpu(cpu)
        finally:
            await conn.close()
        size, plan = await execute(
            self.dsn, "SELECT pg_size_pretty(pg_total_relation_size('clocks'))", _DUE_PLAN
        )
        say(
            f"    loaded {copied['rows']:,} clocks in {t1 - t0:.1f} s "
            f"({copied['rows'] / max(t1 - t0, 1e-9):,.0f}/s: building rows {copied['build_s']} s, "
            f"COPY {copied['copy_s']} s), VACUUM ANALYZE {t2 - t1:.1f} s; table + indexes {size}"
        )
        say(f"    due-clock query plan: {plan}")
        return {
            **copied,
            "seconds": round(t2 - t0, 1),
            "copy_seconds": round(t1 - t0, 1),
            "vacuum_analyze_s": round(t2 - t1, 1),
            "table_size": size,
            "cpu_pct": load_cpu,
            "limit": (
                f"bench (row building, asyncpg COPY encoding) {load_cpu.get('bench', 0):.0f}%, "
                f"postgres {load_cpu.get('postgres', 0):.0f}% of a core (COPY into the heap and "
                "3 indexes: primary key, complaint id, partial next_fire_at; fsync per chunk)"
            ),
        }

    async def steady(self) -> dict[str, Any]:
        args = self.args
        step(f"sla steady: starting sla-watch with {self.bulk_n:,} clocks in its table ...")
        self.stage = "steady"
        _, ready_s = await self.start_service()
        say(
            f"    ready in {ready_s:.1f} s (pid {self.proc.pid}, "
            f"RSS {rss_mib(self.proc.pid):,.0f} MiB)"
        )
        await asyncio.sleep(3)  # the first rounds and the metrics recount
        lead = 3 + self.steady_n / 20_000
        first = time.time() + lead
        placed = await copy_placed(
            self.dsn, self.builder, spread(self.steady_n, first=first, rate_per_s=self.rate)
        )
        end = first + args.sla_window
        step(
            f"sla steady: {len(placed):,} clocks fall due over {args.sla_window:.0f} s at "
            f"{self.rate:.1f}/s (first in {first - time.time():.1f} s) ..."
        )
        cpu = self.cpu()
        seen = await self.wait_for(placed, deadline=end + 30, not_before=end)
        steady_cpu = self.stop_cpu(cpu)
        figures = match(placed, self.watch.fired)
        events = figures.pop("events")
        say(f"    {describe(figures)}; {len(events) / args.sla_window:,.1f} events/s")
        say(f"    late=true on {figures['late_flags']} of them; {seen} seen when waiting ended")
        return {
            **figures,
            "rate_per_s": round(len(events) / args.sla_window, 1),
            "ready_s": round(ready_s, 1),
            "cpu_pct": steady_cpu,
            "limit": (
                f"a due threshold waits for the next firing round (SLA_TICK_S={args.sla_tick} s), "
                "then the round's transaction (one fsync) and the outbox relay's produce; "
                f"sla-watch {steady_cpu.get('sla-watch', 0):.0f}%, postgres "
                f"{steady_cpu.get('postgres', 0):.0f}%, kafka {steady_cpu.get('kafka', 0):.0f}% "
                f"of a core, processes the bench did not start "
                f"{steady_cpu.get('other processes', 0):.0f}%, machine "
                f"{steady_cpu.get('machine', 0):.0f}% of 2 cores"
            ),
        }

    async def catch_up(self) -> dict[str, Any]:
        args = self.args
        step("sla catch-up: stopping sla-watch (SIGTERM) ...")
        self.stage = "stopped"
        stop_s = await self.stop_service()
        now = time.time()
        placed = await copy_placed(
            self.dsn,
            self.builder,
            spread(self.late_n, first=now - args.sla_downtime, rate_per_s=self.rate),
        )
        say(
            f"    stopped in {stop_s:.1f} s; {len(placed):,} clocks placed whose thresholds fell "
            f"due over the last {args.sla_downtime:.0f} s at {self.rate:.1f}/s"
        )
        step("sla catch-up: starting sla-watch, timing until every late event is out ...")
        self.stage = "catch-up"
        cpu = self.cpu()
        activity = ActivitySampler(self.dsn, "sla_bench")
        activity.start()
        spawned, ready_s = await self.start_service()
        await self.wait_for(placed, deadline=spawned + args.sla_catch_up_timeout)
        catch_cpu = self.stop_cpu(cpu)
        pg = activity.stop()
        figures = match(placed, self.watch.fired)
        events = figures.pop("events")
        late = check_late(events, restarted_at=spawned, late_after_s=args.sla_late_after)
        all_out = figures["last_sent"] - spawned if events else float("inf")
        firing_s = figures["last_sent"] - figures["first_sent"] if events else 0.0
        say(
            f"    {figures['seen']:,}/{figures['expected']:,} out {all_out:.1f} s after the start "
            f"command (ready after {ready_s:.1f} s; first to last event {firing_s:.1f} s, "
            f"{len(events) / max(firing_s, 1e-9):,.0f} events/s); {figures['duplicated']} "
            f"duplicated; late check {late}"
        )
        waits = ", ".join(f"{v:.2f} {k}" for k, v in pg["avg_connections_by_state"].items())
        return {
            **figures,
            "all_out_s": round(all_out, 2),
            "ready_s": round(ready_s, 1),
            "first_to_last_s": round(firing_s, 2),
            "late_check": late,
            "cpu_pct": catch_cpu,
            "pg_activity": pg,
            "limit": (
                f"sla-watch {catch_cpu.get('sla-watch', 0):.0f}% of a core (one event loop: "
                "per round of clocks one transaction and one flush; per event its arithmetic, "
                "CloudEvent encoding, outbox row (one multi-row INSERT per commit) and log "
                "line, and the relay's produce), "
                f"postgres {catch_cpu.get('postgres', 0):.0f}%, kafka "
                f"{catch_cpu.get('kafka', 0):.0f}%, processes the bench did not start "
                f"{catch_cpu.get('other processes', 0):.0f}%; rounds of SLA_FIRE_BATCH=500 clocks; "
                f"start-up {ready_s:.1f} s; sla-watch's connections on average: {waits}"
            ),
        }

    async def arming(self) -> dict[str, Any]:
        args = self.args
        step(f"sla arming: sla-watch stopped, producing {args.triaged:,} complaint.triaged ...")
        self.stage = "stopped"
        await self.stop_service()
        start = await end_offsets(self.bootstrap, topics.ROUTING.name, topics.ROUTING.partitions)
        t0 = time.monotonic()
        ids = await produce_triaged(self.bootstrap, args.triaged)
        say(f"    produced in {time.monotonic() - t0:.1f} s")
        step("sla arming: starting sla-watch, counting sla.clock_started ...")
        self.stage = "arming"
        cpu = self.cpu()
        activity = ActivitySampler(self.dsn, "sla_bench")
        activity.start()
        spawned, ready_s = await self.start_service()
        started = self.watch.started
        deadline = spawned + args.sla_arm_timeout
        next_report = time.time() + 10
        while time.time() < deadline:
            armed = sum(1 for c in ids if c in started)
            if armed == len(ids):
                break
            if time.time() >= next_report:
                say(f"    ... {armed:,}/{len(ids):,} complaints armed")
                next_report += 10
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)  # a complaint's second clock_started may trail its first
        arm_cpu = self.stop_cpu(cpu)
        pg = activity.stop()
        self.stage = "stopped"
        await self.stop_service()
        stamps = [t for c in ids for t in started.get(c, [])]
        armed = sum(1 for c in ids if c in started)
        first, last = (min(stamps), max(stamps)) if stamps else (spawned, spawned)
        per_s = armed / (last - first) if last > first else 0.0
        step("sla arming: a plain aiokafka consumer (fresh group) reads the same backlog ...")
        cpu_before = time.process_time()
        raw = await raw_consume(self.bootstrap, start=start, count=len(ids))
        raw["bench_cpu_s"] = round(time.process_time() - cpu_before, 2)
        ratio = per_s / raw["per_s"] if raw["per_s"] else 0.0
        say(
            f"    {armed:,}/{len(ids):,} complaints armed, {len(stamps):,} clocks; "
            f"{per_s:,.0f} complaints/s ({2 * per_s:,.0f} clocks/s) from first to last "
            f"clock_started ({last - first:.1f} s), {armed / max(last - spawned, 1e-9):,.0f}/s "
            f"from the start command (ready after {ready_s:.1f} s)"
        )
        say(
            f"    raw consume: {raw['records']:,} records, {raw['per_s']:,.0f}/s first to last "
            f"({raw['per_s_from_start']:,.0f}/s with the group join); ratio {100 * ratio:.3g}%"
        )
        waits = ", ".join(f"{v:.2f} {k}" for k, v in pg["avg_connections_by_state"].items())
        return {
            "complaints": armed,
            "clocks": len(stamps),
            "per_s": round(per_s, 1),
            "clocks_per_s": round(len(stamps) / (last - first), 1) if last > first else 0.0,
            "ready_s": round(ready_s, 1),
            "raw": raw,
            "ratio": round(ratio, 4),
            "cpu_pct": arm_cpu,
            "pg_activity": pg,
            "limit": (
                f"sla-watch {arm_cpu.get('sla-watch', 0):.0f}% of a core (decode + validate each "
                "CloudEvent, a complaint-row insert round trip, 2 clock rows and 2 outbox rows "
                "per complaint; a poll of <= 500 records applied in one transaction, its "
                f"processed_events rows in one insert, one flush), postgres "
                f"{arm_cpu.get('postgres', 0):.0f}%, processes the bench did not start "
                f"{arm_cpu.get('other processes', 0):.0f}%; the raw consumer only fetches "
                f"({raw['bench_cpu_s']} s CPU); sla-watch's connections on average: {waits}"
            ),
        }

    async def wait_for(self, placed: list[Any], *, deadline: float, not_before: float = 0.0) -> int:
        """Until every placed clock's event is seen (and ``not_before`` passed) or the
        deadline; returns how many were seen."""
        wanted = {p.clock_id for p in placed}
        seen: set[str] = set()
        checked = 0
        next_report = time.time() + 10
        while time.time() < deadline:
            fired = self.watch.fired
            seen.update(f.clock_id for f in fired[checked:] if f.clock_id in wanted)
            checked = len(fired)
            if len(seen) == len(wanted) and time.time() >= not_before:
                break
            if time.time() >= next_report:
                say(f"    ... {len(seen):,}/{len(wanted):,} events out")
                next_report += 10
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # duplicates, if any, would come right after
        return len(seen)
