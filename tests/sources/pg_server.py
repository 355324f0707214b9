"""A throwaway PostgreSQL server for the tests and `bench/db_latency.py`.

`initdb` into a fresh temporary folder, then `pg_ctl start` listening only on a Unix socket in
that folder, so no port can collide with another server or another test run. The binaries are
Debian's (`/usr/lib/postgresql/<version>/bin`, newest first) or whatever `pg_ctl` is on PATH.
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user (which
the Debian package creates) and the folder is made theirs.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"
DATABASE = "evtui_test"


def find_bin_dir() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`, or None when no server is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version, reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    if find_bin_dir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run the server as"
    return None


@dataclass
class PostgresServer:
    """A running server; `url` reaches database `evtui_test` as the superuser."""

    root: Path
    bin_dir: Path
    user: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}@/{database}?host={self.root}"

    @classmethod
    def start(cls) -> PostgresServer:
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        bin_dir = find_bin_dir()
        assert bin_dir is not None
        root = Path(tempfile.mkdtemp(prefix="evtui-pg-"))
        as_root = os.geteuid() == 0
        user = SERVER_USER if as_root else pwd.getpwuid(os.geteuid()).pw_name
        if as_root:
            record = pwd.getpwnam(SERVER_USER)
            os.chown(root, record.pw_uid, record.pw_gid)
        server = cls(root, bin_dir, user)
        server._run("initdb", "-D", str(server.data), "-U", user, "--auth=trust", "--no-sync")
        server._run(
            *("pg_ctl", "start", "-w", "-t", "30", "-D", str(server.data)),
            *("-l", str(root / "server.log")),
            "-o",
            f"-c listen_addresses='' -c unix_socket_directories='{root}' -c fsync=off "
            "-c full_page_writes=off -c max_connections=40",
        )
        server._run("createdb", "-h", str(root), "-U", user, DATABASE)
        return server

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}")
