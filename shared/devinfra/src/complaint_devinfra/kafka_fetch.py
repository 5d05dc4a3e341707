"""Fetch the Apache Kafka broker jars from Maven Central (once per checkout).

The Kafka binary tarball lives on download mirrors that CI machines cannot
reach, but the broker is published to Maven Central as ``kafka_2.13``, so a
committed pom plus ``dependency:copy-dependencies`` gives the same ``libs/``
directory the tarball ships (the broker jar included, since it is a
dependency of the pom project).

    python -m complaint_devinfra.kafka_fetch
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from complaint_devinfra._paths import cache_root, kafka_pom_path

KAFKA_VERSION = "4.1.1"
SCALA_VERSION = "2.13"
_MARKER = ".complete"


def kafka_home(version: str = KAFKA_VERSION) -> Path:
    return cache_root() / "kafka" / version


def kafka_libs_dir(version: str = KAFKA_VERSION) -> Path:
    """``<cache>/kafka/<version>/libs``; complete only if :func:`libs_complete`."""
    return kafka_home(version) / "libs"


def broker_jar_name(version: str = KAFKA_VERSION) -> str:
    return f"kafka_{SCALA_VERSION}-{version}.jar"


def libs_complete(version: str = KAFKA_VERSION) -> bool:
    libs = kafka_libs_dir(version)
    return (libs / _MARKER).is_file() and (libs / broker_jar_name(version)).is_file()


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # pytest-xdist workers and `make up` may fetch at the same moment.
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_kafka_libs(version: str = KAFKA_VERSION, *, quiet: bool = False) -> Path:
    """Return the libs directory, running Maven first if it is not complete yet."""
    libs = kafka_libs_dir(version)
    if libs_complete(version):
        return libs
    with _exclusive(kafka_home(version) / ".fetch.lock"):
        if libs_complete(version):  # another process finished while we waited
            return libs
        _fetch(version, libs, quiet=quiet)
    return libs


def _fetch(version: str, libs: Path, *, quiet: bool) -> None:
    pom = kafka_pom_path()
    if not pom.is_file():
        raise RuntimeError(
            f"Kafka pom not found at {pom} (is complaint-devinfra installed editable?)"
        )
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(
            "Maven (`mvn`) is needed to fetch the Kafka broker jars; "
            "install it with `apt-get install -y maven`"
        )
    if not quiet:
        _log(f"fetching Kafka {version} jars with Maven (first run only, ~10 s)...")
    started = time.monotonic()
    staging = libs.with_name(f"libs.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        f"-Dkafka.version={version}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise RuntimeError(f"Maven failed to fetch Kafka {version} jars:\n{output}")
    jars = sorted(p.name for p in staging.glob("*.jar"))
    if broker_jar_name(version) not in jars:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"Maven finished but {broker_jar_name(version)} is missing in {staging}")
    # Written last and moved atomically, so a half-copied libs/ is never "complete".
    (staging / _MARKER).write_text("\n".join(jars) + "\n")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    if not quiet:
        _log(f"fetched {len(jars)} jars into {libs} in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m complaint_devinfra.kafka_fetch",
        description="Fetch the Apache Kafka broker jars from Maven Central into the cache.",
    )
    parser.add_argument("--version", default=KAFKA_VERSION)
    args = parser.parse_args(argv)
    if libs_complete(args.version):
        _log(f"Kafka {args.version} jars already present in {kafka_libs_dir(args.version)}")
        return 0
    ensure_kafka_libs(args.version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
