"""Snapshot of the help screen over the main screen: every key that works there, with its id,
then the filter syntax. Plain `def` (snap_compare runs the app itself); the engine has no
receiver ("not listening") and no events, so nothing on screen varies."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from tui_helpers import RETENTION_DAYS, until

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.screens.help import HelpScreen
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
