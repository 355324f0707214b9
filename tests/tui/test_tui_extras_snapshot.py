"""Snapshots of the help screen over the main screen (every key that works there, with its id,
then the filter syntax) and of the runs timeline at a stopped clock. Plain `def` (snap_compare
runs the app itself); the engine has no receiver ("not listening"), so nothing else varies."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from textual.pilot import Pilot
from tui_helpers import BASE_TIME, RETENTION_DAYS, until

from evtui.engine import Engine
from evtui.flows.records import FlowRun, RunCause, StateRecord
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.screens.help import HelpScreen
from evtui.tui.screens.runs_timeline import RunsTimeline
from evtui.tui.source import LocalSource
from evtui.tui.widgets.status_bar import StatusBar

SIZE = (120, 50)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "e.db", port=0, retention_days=RETENTION_DAYS)

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: bool(app.query(StatusBar)), "the main screen")
        status = app.query_one(StatusBar)
        await until(pilot, lambda: "0 stored" in str(status.render()), "the status bar")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")

    app = EvtuiApp(LocalSource(Engine(settings, serve_http=False)))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


RUNS = [
    ("load_orders", "Completed", 2, 9),
    ("load_orders", "Failed", 14, 17),
    ("daily_summary", "Completed", 16, 31),
    ("load_orders", "Completed", 24, 29),
    ("process_new_file", "Cancelled", 33, 41),
    ("daily_summary", "Completed", 44, 48),
]
"""Flow, final state, and the minutes after the hour's start it started and ended."""


def test_runs_timeline(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None):
    """Runs of the last hour at a stopped clock: one bar each, coloured by state."""
    settings = Settings(db=tmp_path / "e.db", port=0, retention_days=RETENTION_DAYS)
    start = BASE_TIME
    now = start + timedelta(hours=1)
    monkeypatch.setattr("evtui.tui.screens.runs_timeline.clock", lambda: now)

    async def seed() -> None:
        async with Engine(settings, serve_http=False) as engine:
            for index, (flow, state, began, ended) in enumerate(RUNS):
                run = FlowRun(
                    id=str(UUID(int=300 + index)),
                    name=f"run-{index}",
                    flow=flow,
                    parameters={},
                    state=state,
                    state_message=None,
                    cause=RunCause("manual"),
                    created=start + timedelta(minutes=began),
                    started=start + timedelta(minutes=began),
                    ended=start + timedelta(minutes=ended),
                    attempt=1,
                )
                record = StateRecord(str(UUID(int=400 + index)), state, run.ended or now)
                await engine.runner.runs.record_state(run, record)

    asyncio.run(seed())

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: len(app.main.runs) == len(RUNS), "the runs")
        await pilot.press("T")
        rows = app.screen.query_one(RunsTimeline)
        await until(pilot, lambda: rows.option_count == len(RUNS), "the rows")

    app = EvtuiApp(LocalSource(Engine(settings, serve_http=False)))
    assert snap_compare(app, terminal_size=(100, 14), run_before=run_before)
