"""Snapshots of the key screens, from a database seeded with fixed events.

Plain `def` tests (snap_compare runs the app itself). Everything that could vary is pinned:
ids and times of the events, the time zone (UTC), `received` (stamped while seeding), the
address (no receiver: "not listening") and the rate (nothing arrives while the app runs).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from panes_helpers import flow_settings, seed_panes
from textual.app import App
from textual.pilot import Pilot
from tui_helpers import BASE_TIME, RETENTION_DAYS, make_event, until

from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.source import LocalSource
from evtui.tui.widgets.event_list import EventList
from evtui.tui.widgets.firings_pane import FiringsPane
from evtui.tui.widgets.logs_pane import LogsPane
from evtui.tui.widgets.runs_pane import RunsPane
from evtui.tui.widgets.status_bar import StatusBar

SIZE = (120, 36)
EVENTS = 40
NAMES = [
    "file.created",
    "file.modified",
    "prefect.flow-run.Completed",
    "evtui.automation.triggered",
]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Settings:
    settings = Settings(db=tmp_path / "e.db", port=0, retention_days=RETENTION_DAYS)
    monkeypatch.setattr("evtui.engine.now_utc", lambda: BASE_TIME)

    async def seed() -> None:
        async with Engine(settings, serve_http=False) as engine:
            names = [NAMES[i % len(NAMES)] for i in range(EVENTS)]
            events = [make_event(i, name, size=str(i * 512)) for i, name in enumerate(names)]
            await engine.ingest(events)

    asyncio.run(seed())
    return settings


def event_rows(app: App[None]) -> int:
    """Rows in the event list (0 until the main screen has mounted it)."""
    found = app.query(EventList)
    return len(found.first().buffer) if found else 0


async def shown(pilot: Pilot, events: int = EVENTS) -> None:
    """Wait until every seeded row and the status line are on screen."""
    app = pilot.app
    await until(pilot, lambda: event_rows(app) == events, "the rows")
    status = app.query_one(StatusBar)
    await until(pilot, lambda: f"{events} stored" in str(status.render()), "the status bar")


def test_event_pane(snap_compare, seeded: Settings) -> None:
    app = EvtuiApp(LocalSource(Engine(seeded, serve_http=False)))
    assert snap_compare(app, terminal_size=SIZE, run_before=shown)


def test_event_pane_paused_with_a_filter(snap_compare, seeded: Settings) -> None:
    async def run_before(pilot: Pilot) -> None:
        await shown(pilot)
        await pilot.press("slash", *"file.*", "enter", "k", "k")

    app = EvtuiApp(LocalSource(Engine(seeded, serve_http=False)))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_event_detail(snap_compare, seeded: Settings) -> None:
    async def run_before(pilot: Pilot) -> None:
        await shown(pilot)
        await pilot.press("k", "enter")
        await until(pilot, lambda: pilot.app.screen.explained, "the explain answer")

    app = EvtuiApp(LocalSource(Engine(seeded, serve_http=False)))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def seeded_panes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Settings:
    """Every pane with rows: automations (one disabled), firings, runs and their logs."""
    settings = flow_settings(tmp_path)
    ids = (uuid.UUID(int=500 + n) for n in itertools.count())
    monkeypatch.setattr("evtui.engine.now_utc", lambda: BASE_TIME)
    monkeypatch.setattr("evtui.automations.store.now_utc", lambda: BASE_TIME)
    monkeypatch.setattr("evtui.automations.store.uuid4", lambda: next(ids))
    changed = functools.partial(Event, occurred=BASE_TIME + timedelta(minutes=10))
    monkeypatch.setattr("evtui.automations.store.Event", changed)  # its change events

    async def seed() -> None:
        async with Engine(settings, serve_http=False) as engine:
            await seed_panes(engine)

    asyncio.run(seed())
    return settings


def test_main_screen_with_every_pane(snap_compare, seeded_panes: Settings) -> None:
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: event_rows(app) > 0, "the events")
        runs = app.query_one(RunsPane)
        firings = app.query_one(FiringsPane)
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: runs.table.row_count == 5, "the runs")
        await until(pilot, lambda: firings.table.row_count == 3, "the firings")
        await until(pilot, lambda: logs.ended, "the logs of the newest run")
        await pilot.press("4")

    app = EvtuiApp(LocalSource(Engine(seeded_panes, serve_http=False)))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
