"""The `:` palette offers what can be done with each pane's selected row, and does it."""

from __future__ import annotations

from pathlib import Path

from test_tui_panes import open_panes

from evtui.tui.commands import selection_commands
from evtui.tui.widgets.runs_pane import RunsPane


async def test_the_palette_cancels_the_selected_run(tmp_path: Path) -> None:
    async with open_panes(tmp_path, (160, 40)) as panes:
        started = await panes.source.start_run("hold", {"release": str(tmp_path / "release")})
        table = panes.app.main.query_one(RunsPane).table
        await panes.until(lambda: table.row_count == 1, "the run")
        await panes.until(lambda: panes.rows(RunsPane)[0][0] == "Running", "the run to start")
        await panes.pilot.press("4")
        titles = [title for title, _, _ in selection_commands(panes.app.main)]
        name = f"hold/{started['name']}"
        assert f"run: cancel {name}" in titles
        assert f"run: rerun {name}" in titles
        assert "flow: run…" in titles

        await panes.pilot.press("colon", *"run: cancel")
        await panes.pilot.pause(0.3)
        await panes.pilot.press("enter")
        await panes.until(lambda: panes.rows(RunsPane)[0][0] == "Cancelled", "the cancel")
