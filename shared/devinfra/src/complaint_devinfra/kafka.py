"""A real Apache Kafka broker (KRaft, one combined broker+controller node) as a local process."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from complaint_devinfra import _proc
from complaint_devinfra.kafka_endpoint import KafkaEndpoint, KafkaError, TopicSpec
from complaint_devinfra.kafka_fetch import KAFKA_VERSION, ensure_kafka_libs

__all__ = ["KafkaEndpoint", "KafkaError", "LocalKafka", "TopicSpec"]


class KafkaHung(KafkaError):
    """A restarted broker that answers metadata but whose group coordinator never does."""


RESTART_ATTEMPTS = 3
HANG_EVIDENCE_BYTES = 4 * 1024 * 1024  # the end of each log kept from a hung restart
OFFSETS_PARTITIONS = 10  # __consumer_offsets' partitions (offsets.topic.num.partitions)


def _java_string_hash(text: str) -> int:
    """Java's ``String.hashCode`` of an ASCII string (a signed 32-bit int)."""
    value = 0
    for char in text:
        value = (31 * value + ord(char)) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def offsets_partition(group_id: str, partitions: int) -> int:
    """The ``__consumer_offsets`` partition Kafka keeps ``group_id`` on
    (``Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions``)."""
    code = _java_string_hash(group_id)
    return (0 if code == -(1 << 31) else abs(code)) % partitions


def readiness_groups(partitions: int) -> list[str]:
    """One made-up group id per ``__consumer_offsets`` partition: the coordinator answers
    such a group (state Dead, no error) only once it has loaded its partition, and
    ``COORDINATOR_LOAD_IN_PROGRESS`` or ``NOT_COORDINATOR`` before."""
    found: dict[int, str] = {}
    index = 0
    while len(found) < partitions:
        name = f"devinfra-readiness-{index}"
        found.setdefault(offsets_partition(name, partitions), name)
        index += 1
    return [found[partition] for partition in range(partitions)]


class KafkaRestartWarning(RuntimeWarning):
    """A restart hung and was tried once more (see :meth:`LocalKafka.start`)."""


class LocalKafka(KafkaEndpoint):
    """Apache Kafka running from the Maven-fetched jars, on free loopback ports.

    ``stop()`` / ``kill()`` followed by ``start()`` reuses the same ports and
    data directory, so a test can simulate a broker crash and recovery. A restart is ready
    only once the group coordinator answers for every group, and a restart that hangs is
    retried once (see :meth:`start`).
    """

    is_local = True

    def __init__(
        self,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        work_dir: Path | None = None,
        version: str = KAFKA_VERSION,
        heap: str = "512m",
        initial_heap: str = "256m",
        extra_config: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        restart_timeout: float = 30.0,
        detached: bool = False,
    ) -> None:
        """``detached=True`` (the CLI) leaves the broker running when this process exits."""
        super().__init__("")
        self.version = version
        self._port = port
        self._controller_port = controller_port
        self._owns_work_dir = work_dir is None
        self._work_dir = work_dir
        self._heap = (heap, initial_heap)
        self._extra_config = dict(extra_config or {})
        self._startup_timeout = startup_timeout
        # A healthy restart loads its groups in seconds; a hung one never does.
        self._restart_timeout = restart_timeout
        self._detached = detached
        self._proc: subprocess.Popen[bytes] | None = None
        self.last_startup_seconds: float | None = None

    # ------------------------------------------------------------------ properties

    @property
    def bootstrap_servers(self) -> str:
        if self._port is None:
            raise KafkaError("LocalKafka has not been started yet")
        return f"127.0.0.1:{self._port}"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def controller_port(self) -> int | None:
        return self._controller_port

    @property
    def work_dir(self) -> Path | None:
        return self._work_dir

    @property
    def data_dir(self) -> Path | None:
        return None if self._work_dir is None else self._work_dir / "data"

    @property
    def log_path(self) -> Path | None:
        """log4j output of the broker (server, controller and request logs)."""
        return None if self._work_dir is None else self._work_dir / "broker.log"

    @property
    def stdout_path(self) -> Path | None:
        """JVM stdout/stderr: where crashes before logging starts end up."""
        return None if self._work_dir is None else self._work_dir / "kafka.out"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        text = _proc.tail(self.log_path, lines)
        console = _proc.tail(self.stdout_path, 20)
        if console.strip() and not console.startswith("(cannot read"):
            text += f"\n--- JVM console ({self.stdout_path}) ---\n{console}"
        return text

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the broker (formatting storage on first start) and wait until it answers.

        A restart on existing data waits for the group coordinator too: a broker that
        answers metadata but has not loaded its groups serves no consumer yet (after a
        SIGKILL it waits out its old session, is fenced, unloads and loads them again). A
        restart whose coordinator still does not answer after ``restart_timeout`` s is
        killed and tried again (up to ``RESTART_ATTEMPTS``), its thread dump and log kept
        (:meth:`_keep_hang_evidence`) and a :class:`KafkaRestartWarning` each time: a safety
        net. The "hangs" seen until 2026-12-07 were the probe's own: aiokafka misreads a
        DescribeGroups answer holding two groups (see :meth:`_answers`), so with two
        groups or more the probe never passed, while the broker had loaded everything.
        """
        if self.is_running:
            return
        data = self.data_dir
        restarting = data is not None and (data / "meta.properties").exists()
        if not restarting:
            self._start_once(restarting=False)
            return
        for attempt in range(1, RESTART_ATTEMPTS + 1):
            try:
                self._start_once(restarting=True)
                return
            except KafkaHung as hung:
                if attempt == RESTART_ATTEMPTS:
                    raise
                first_line = str(hung).splitlines()[0]
                kept = self._keep_hang_evidence(attempt)
                # A warning, not a print: pytest lists it in its summary even when every
                # test passes, so a hang that a retry hid is still seen.
                warnings.warn(
                    f"{first_line}; thread dump and broker log kept in {kept}; "
                    f"starting it again (attempt {attempt + 1})",
                    KafkaRestartWarning,
                    stacklevel=2,
                )

    def _start_once(self, *, restarting: bool) -> None:
        libs = ensure_kafka_libs(self.version)
        java = _find_java()
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="platform-kafka-"))
        work_dir = self._work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        if self._owns_work_dir and not self._detached:
            _proc.track_dir(work_dir)
        self._port = self._port or _proc.free_port()
        while self._controller_port is None or self._controller_port == self._port:
            self._controller_port = _proc.free_port()
        config = work_dir / "server.properties"
        config.write_text(self._server_properties())
        (work_dir / "log4j2.properties").write_text(_log4j_config(work_dir / "broker.log"))
        classpath = f"{libs}/*"
        if not (work_dir / "data" / "meta.properties").exists():
            _format_storage(java, classpath, config)

        started = time.monotonic()
        command = [
            java,
            f"-Xmx{self._heap[0]}",
            f"-Xms{self._heap[1]}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile=file:{work_dir / 'log4j2.properties'}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(config),
        ]
        with (work_dir / "kafka.out").open("ab") as console:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=work_dir,
                start_new_session=True,
            )
        if not self._detached:
            _proc.track_group(self._proc.pid, _proc.SIGNAL_KAFKA)
        try:
            timeout = self._restart_timeout if restarting else self._startup_timeout
            self._wait_until_ready(started + timeout, groups=restarting)
        except KafkaHung:
            self._dump_threads()
            self._kill_process()
            raise
        except BaseException:
            self._kill_process()
            raise
        self.last_startup_seconds = time.monotonic() - started

    def stop(self, timeout: float = 20.0) -> None:
        """Controlled shutdown (SIGTERM); SIGKILL if it takes longer than ``timeout`` s."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            _proc.stop_group(self._proc.pid, leader=self._proc, timeout=timeout)
        self._forget_process()

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would; ``start()`` brings it back."""
        self._kill_process()

    def destroy(self) -> None:
        """Stop the broker and delete its data (only when the work dir was ours)."""
        self.stop()
        if self._work_dir is not None and self._owns_work_dir:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            _proc.untrack_dir(self._work_dir)

    def describe(self) -> dict[str, Any]:
        """What the CLI records in infra.json."""
        return {
            "version": self.version,
            "pid": self.pid,
            "pgid": self.pid,
            "port": self._port,
            "controller_port": self._controller_port,
            "bootstrap_servers": self.bootstrap_servers,
            "work_dir": str(self._work_dir),
            "log_path": str(self.log_path),
        }

    # ------------------------------------------------------------------ internals

    def _kill_process(self) -> None:
        if self._proc is None:
            return
        _proc.signal_group(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._forget_process()

    def _forget_process(self) -> None:
        if self._proc is not None:
            _proc.untrack_group(self._proc.pid)
        self._proc = None

    def _keep_hang_evidence(self, attempt: int) -> Path | None:
        """Copy the hung broker's console (its thread dump) and the end of its log where the
        suite's clean-up does not delete them (``KAFKA_HANG_DIR``, else the temporary
        directory's ``kafka-hangs``), to read why a restart did not come back."""
        base = Path(os.environ.get("KAFKA_HANG_DIR") or Path(tempfile.gettempdir()) / "kafka-hangs")
        kept = base / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-attempt{attempt}"
        try:
            kept.mkdir(parents=True, exist_ok=True)
            for source in (self.stdout_path, self.log_path):
                if source is not None and source.exists():
                    with source.open("rb") as whole:
                        whole.seek(max(source.stat().st_size - HANG_EVIDENCE_BYTES, 0))
                        (kept / source.name).write_bytes(whole.read())
        except OSError:
            return None
        return kept

    def _dump_threads(self) -> None:
        """SIGQUIT: the JVM writes every thread's stack to its console (kafka.out)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT)
            time.sleep(2)

    def _wait_until_ready(self, deadline: float, *, groups: bool = False) -> None:
        if self._proc is None:
            raise RuntimeError("_proc is not set yet")
        if self._port is None:
            raise RuntimeError("_port is not set yet")
        while True:
            code = self._proc.poll()
            if code is not None:
                raise KafkaError(
                    f"Kafka {self.version} exited with code {code} during startup.\n"
                    f"{self._error_lines()}--- tail of {self.log_path} ---\n{self.log_tail(40)}"
                )
            # Cheap TCP check first: aiokafka logs an ERROR for every refused connection.
            if _port_open(self._port) and _proc.run_sync(
                self._answers_groups if groups else self._answers_metadata
            ):
                return
            if time.monotonic() > deadline:
                what = "restarted, its group coordinator" if groups else ""
                raise (KafkaHung if groups else KafkaError)(
                    f"Kafka {self.version} on {self.bootstrap_servers} {what} not ready after "
                    f"{self._restart_timeout if groups else self._startup_timeout:.0f} s; "
                    f"log {self.log_path}:\n{self.log_tail(40)}"
                )
            time.sleep(0.1)

    def _error_lines(self, limit: int = 10) -> str:
        # A failing broker ends its log with long stack traces; the cause is
        # in the ERROR / "Caused by" lines above them.
        picked = [
            line
            for line in _proc.tail(self.log_path, 2000).splitlines()
            if " ERROR " in line or " FATAL " in line or line.startswith("Caused by")
        ]
        unique = list(dict.fromkeys(line[:400] for line in picked))
        return "".join(f"{line}\n" for line in unique[-limit:])

    async def _answers_groups(self) -> bool:
        """Metadata, and the group coordinator answering for every partition of
        ``__consumer_offsets`` (a made-up group on each, :func:`readiness_groups`) and for
        every existing group: each described without an error."""
        return await self._answers(groups=True)

    async def _answers_metadata(self) -> bool:
        return await self._answers(groups=False)

    async def _answers(self, *, groups: bool) -> bool:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3000
        )
        try:
            await admin.start()
            if not (await admin.describe_cluster()).get("brokers"):
                return False
            if not groups:
                return True
            names = [group[0] for group in await admin.list_consumer_groups()]
            # One group per DescribeGroups: aiokafka 0.14 decodes the v3 answer with the v2
            # schema (no authorized_operations), so a second group in one answer is misread
            # and the connection dropped ("Buffer underrun decoding string"): a probe asking
            # for all groups at once never passed with two groups or more.
            for name in [*readiness_groups(OFFSETS_PARTITIONS), *names]:
                for response in await admin.describe_consumer_groups([name]):
                    if any(group[0] != 0 for group in response.groups):  # its error code
                        return False
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    def _server_properties(self) -> str:
        port, cport = self._port, self._controller_port
        settings: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": "1",
            # Static quorum: the storage is formatted without --standalone.
            "controller.quorum.voters": f"1@127.0.0.1:{cport}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "6",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Internal topics default to 50 partitions: slow to create on 2 cores
            # and pointless on one broker.
            "offsets.topic.num.partitions": str(OFFSETS_PARTITIONS),
            "transaction.state.log.num.partitions": "10",
            "group.initial.rebalance.delay.ms": "0",
            # After a kill -9 the controller rejects the restarted broker's
            # registration until the old session expires (default 9 s); a short
            # session makes crash-and-restart tests take seconds, not ~10 s.
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
            # The default 128 MiB dedupe buffer is a quarter of the 512 MiB heap.
            "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
            "num.network.threads": "2",
            "num.io.threads": "4",
        }
        settings.update(self._extra_config)
        return "".join(f"{key}={value}\n" for key, value in settings.items())


def _log4j_config(log_path: Path) -> str:
    return f"""\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_path}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# The full config dumps at every start bury the interesting lines of a tail.
logger.cfg.name = org.apache.kafka.common.config.AbstractConfig
logger.cfg.level = WARN
"""


def _random_cluster_id() -> str:
    # Same shape as `kafka-storage random-uuid` (22 base64url chars) without a
    # JVM start; Kafka rejects ids beginning with '-' as ambiguous on CLIs.
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _format_storage(java: str, classpath: str, config: Path) -> None:
    command = [
        java,
        "-Xmx256m",
        "-cp",
        classpath,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        _random_cluster_id(),
        "-c",
        str(config),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KafkaError(f"kafka-storage format failed:\n{result.stdout}{result.stderr}")


def _find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and Path(java_home, "bin", "java").is_file():
        return str(Path(java_home, "bin", "java"))
    java = shutil.which("java")
    if java is None:
        raise KafkaError(
            "Java 17+ is needed to run Kafka; install it with "
            "`apt-get install -y openjdk-17-jre-headless`"
        )
    return java


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":  # manual smoke test: python -m complaint_devinfra.kafka
    with LocalKafka() as kafka:
        if not isinstance(kafka, LocalKafka):
            raise TypeError("expected a LocalKafka")
        print(f"Kafka ready at {kafka.bootstrap_servers} in {kafka.last_startup_seconds:.1f} s")
        print(f"log: {kafka.log_path}", file=sys.stderr)
