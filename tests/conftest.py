"""Fixtures shared by every test: isolation from the user's config, and a real `evtui serve`."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from evtui.engine import Engine
from evtui.settings import Settings

SERVE_START_TIMEOUT = 30.0


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """No test reads the developer's config, data dir or EVTUI_* variables.

    Each test also starts in an empty working folder, so an engine never picks up the
    checkout's `sample_flows/` as its default flow folder unless the test asks for it.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    for name in list(os.environ):
        if name.startswith("EVTUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))


class StartEngine(Protocol):
    def __call__(self, **settings: Any) -> Awaitable[Engine]: ...


@pytest.fixture
async def start_engine(tmp_path: Path) -> AsyncIterator[StartEngine]:
    """Start engines with `Settings` overrides; all are stopped at the end of the test."""
    numbers = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(**settings: Any) -> Engine:
            db = tmp_path / f"engine{next(numbers)}.db"
            engine = Engine(Settings(db=db, port=0, **settings))
            return await stack.enter_async_context(engine)

        yield start


@pytest.fixture
async def engine(start_engine: StartEngine) -> Engine:
    return await start_engine()


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
