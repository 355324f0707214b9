"""Fixtures for the TUI tests: a real engine inside the app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tui_helpers import RETENTION_DAYS, WIDE, Running, subscribed, until

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.source import LocalSource


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "e.db", port=0, retention_days=RETENTION_DAYS)


@pytest.fixture
async def running(settings: Settings) -> AsyncIterator[Running]:
    """The app on a real engine (HTTP receiver on an ephemeral port), started and listening."""
    engine = Engine(settings)
    app = EvtuiApp(LocalSource(engine))
    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: subscribed(engine), "the app to subscribe to the bus")
        yield Running(app, engine, pilot)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so snapshots show the same times on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
