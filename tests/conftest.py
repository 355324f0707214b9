"""Fixtures shared by every test: isolation from the user's config, and a real `evtui serve`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVE_START_TIMEOUT = 30.0


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """No test reads the developer's config, data dir or EVTUI_* variables."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("EVTUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))


@dataclass
class ServeProcess:
    """A running `evtui serve` subprocess and where to reach it."""

    process: subprocess.Popen[str]
    api_url: str
    db: Path

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=20)


def start_serve(db: Path, *extra: str) -> ServeProcess:
    """Start `evtui serve` on an ephemeral port and wait until it says where it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "evtui", "serve", "--port", "0", "--db", str(db), *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + SERVE_START_TIMEOUT
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"receiving events on (http://\S+/api)", line)
        if match:
            # Keep draining stderr so a chatty server never blocks on a full pipe.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return ServeProcess(process, match.group(1), db)
    process.kill()
    raise AssertionError("evtui serve did not start:\n" + "".join(seen))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    server = start_serve(tmp_path / "events.db")
    yield server
    if server.process.poll() is None:
        server.stop()
