"""The server under test: `evtui serve` in its own process, and what it stored.

The server runs as a separate process so the benchmark measures what a user runs and its
memory is its own (`/proc/<pid>/status`). What it stored is counted by opening the SQLite file
read-only, independently of anything the server reports about itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from figures import note
from workload import id_range

STARTUP_SECONDS = 60.0
"""Opening a 1,000,000-event file and starting uvicorn takes a few seconds; this is generous."""


class BenchError(RuntimeError):
    """The benchmark cannot run; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def evtui_command() -> list[str]:
    """`evtui` from the same environment as this Python."""
    script = Path(sys.executable).with_name("evtui")
    if not script.exists():
        raise BenchError(
            f"no `evtui` next to {sys.executable}; install evtui first (see the README)"
        )
    return [str(script)]


class Server:
    """`evtui serve --port P --db PATH`, started and stopped by the benchmark."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db = db
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise BenchError("the server is not running")
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [*evtui_command(), "serve", "--port", str(self.port), "--db", str(self.db)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(
                    f"the server exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        self.stop()
        raise BenchError(f"the server did not answer /api/health in {STARTUP_SECONDS:.0f} s")

    def stop(self) -> None:
        """SIGTERM (the server commits what it acknowledged), then wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def memory_mib(self) -> tuple[float, float]:
        """Resident set size now and its peak (VmRSS, VmHWM), in MiB."""
        values: dict[str, float] = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) / 1024
        return values["VmRSS"], values["VmHWM"]

    def cpu_seconds(self) -> float:
        """User + system CPU the server has used so far."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serving(db: Path) -> Iterator[Server]:
    """`evtui serve` on `db` for the duration of the block; its log goes beside the file."""
    server = Server(db, db.with_suffix(".server.log"))
    note(f"starting evtui serve on port {server.port} (db {db})")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def run_script(name: str, body: Callable[[], int]) -> int:
    """A benchmark's exit status: `body`'s, or 2 with one clear line if it could not run."""
    warn_if_busy()
    try:
        return body()
    except BenchError as error:
        note(f"{name}: {error}")
        return 2


def warn_if_busy(seconds: float = 1.0) -> None:
    """Say so when other processes already use the CPUs the figures depend on."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
        return values[3] + values[4], sum(values)

    idle_before, total_before = sample()
    time.sleep(seconds)
    idle_after, total_after = sample()
    idle = (idle_after - idle_before) / max(1, total_after - total_before)
    if idle < 0.9:
        note(
            f"warning: the CPUs are only {idle:.0%} idle before the run; other processes "
            "will lower these figures"
        )


def read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def stored_total(db: Path) -> int:
    with read_only(db) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def stored_ids(db: Path, nonce: str) -> set[str]:
    """Ids stored by the run with this nonce (a range scan of the unique index)."""
    low, high = id_range(nonce)
    with read_only(db) as conn:
        rows = conn.execute("SELECT id FROM events WHERE id >= ? AND id < ?", (low, high))
        return {row[0] for row in rows}
