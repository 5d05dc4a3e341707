"""Where each service's CPU goes under load: py-spy samples the running processes (no code
change, no restart) while the bench drives them, and the summary names the functions of the
platform that take the most samples, by their own time and with what they call.

py-spy needs ptrace rights over the processes (the bench starts them, so the same user
has them unless ``kernel.yama.ptrace_scope`` is above 1; as root it always works).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Frames of these packages are the platform's own; the rest are libraries (sqlalchemy,
# asyncpg, aiokafka, pydantic, ...) reported by package.
OWN = ("intake", "routing", "sla_watch", "feedback", "notify", "console", "complaint_")


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


@dataclass
class Recording:
    name: str
    pid: int
    path: Path
    process: subprocess.Popen[bytes] | None = None
    error: str = ""


@dataclass
class SpySession:
    """One ``py-spy record`` per service for ``seconds``; ``stop`` waits and summarises."""

    out_dir: Path
    seconds: float
    rate: int = 97
    recordings: list[Recording] = field(default_factory=list)

    def start(self, pids: dict[str, int]) -> bool:
        binary = py_spy()
        if binary is None:
            return False
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            path = self.out_dir / f"{name}.folded"
            command = [
                binary, "record", "--pid", str(pid), "--duration", str(max(int(self.seconds), 1)),
                "--rate", str(self.rate), "--format", "raw", "--nonblocking", "--output",
                str(path),
            ]  # fmt: skip
            log = (self.out_dir / f"{name}.py-spy.log").open("wb")
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            self.recordings.append(Recording(name, pid, path, process))
        return True

    def stop(self) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        for rec in self.recordings:
            if rec.process is not None:
                try:
                    rec.process.wait(timeout=self.seconds + 30)
                except subprocess.TimeoutExpired:
                    rec.process.kill()
                    rec.error = "py-spy did not finish"
            if not rec.path.exists():
                log = self.out_dir / f"{rec.name}.py-spy.log"
                rec.error = rec.error or log.read_text(errors="replace")[-300:]
                summary[rec.name] = {"error": rec.error}
                continue
            summary[rec.name] = summarize_folded(rec.path)
        return summary


def _frame_name(frame: str) -> tuple[str, bool]:
    """'func (path/to/module.py:123)' -> ('module.func', is_own)."""
    func, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    parts = Path(path).with_suffix("").parts
    own = any(p.startswith(OWN) for p in parts)
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "src" in parts:
        parts = parts[parts.index("src") + 1 :]
    module = ".".join(parts[-3:]) if parts else where
    return f"{module}.{func}", own


def summarize_folded(path: Path, top: int = 12) -> dict[str, Any]:
    """Busy samples only (py-spy leaves idle threads out by default): the functions with the
    most own samples, the platform's functions with the most samples including callees,
    and the libraries by own samples."""
    own_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if f]
        names = [_frame_name(f) for f in frames]
        if not names:
            continue
        leaf, _ = names[-1]
        own_time[leaf] += count
        library = leaf.split(".", 1)[0]
        libraries[library] += count
        for name in {n for n, own in names if own}:
            inclusive[name] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return (
            [(n, round(100 * c / total, 1)) for n, c in counter.most_common(top)] if total else []
        )

    return {
        "samples": total,
        "self_pct": share(own_time),
        "platform_inclusive_pct": share(inclusive),
        "by_package_pct": share(libraries),
    }


def describe(summary: dict[str, Any], say: Any) -> None:
    for name, result in summary.items():
        if "error" in result:
            say(f"    {name}: py-spy failed: {result['error']}")
            continue
        say(f"    {name}: {result['samples']:,} busy samples")
        say("      packages (own time): " + ", ".join(
            f"{n} {p}%" for n, p in result["by_package_pct"][:8]
        ))  # fmt: skip
        say("      platform functions (with callees):")
        for n, p in result["platform_inclusive_pct"][:10]:
            say(f"        {p:5.1f}%  {n}")
        say("      hottest functions (own time):")
        for n, p in result["self_pct"][:8]:
            say(f"        {p:5.1f}%  {n}")
