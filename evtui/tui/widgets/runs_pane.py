"""The Runs pane: each flow run with its state (coloured), flow, start, duration and cause
(redrawn each second while runs go on); `T` shows them over the last hour as a Gantt chart.

`c` cancels and `r` reruns the selected run, `enter` opens it; moving the cursor tells the
screen which run the Logs pane should follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from evtui.tui.messages import OpenRun
from evtui.tui.source import SourceError
from evtui.tui.widgets.detail_cells import cell, parse_time, seconds_text, short_id
from evtui.tui.widgets.keyed_table import KeyedTable, Rows
from evtui.tui.widgets.pane import Pane
from evtui.tui.widgets.pane_cells import clock, coloured

COLUMNS = ("STATE", "FLOW", "RUN", "STARTED", "TIME", "CAUSE")


def cause_text(cause: dict[str, Any], automation_names: dict[str, str]) -> str:
    """Why the run exists, in a few words: `manual`, `api`, `rerun of 0190ab`, the automation."""
    kind = cause.get("kind", "")
    if kind == "rerun":
        return f"rerun of {short_id(cause.get('rerun_of'))}"
    if kind == "automation":
        automation = cause.get("automation_id") or ""
        return f"⚡ {automation_names.get(automation, short_id(automation))}"
    return str(kind)


def run_duration(run: dict[str, Any], now: datetime) -> str:
    """Start to end, or to now while the run is going; "" before it started."""
    started = parse_time(run.get("started"))
    if started is None:
        return ""
    ended = parse_time(run.get("ended")) or now
    return seconds_text(max(0.0, (ended - started).total_seconds()))


class RunsPane(Pane):
    """The newest runs first; the screen feeds it with `show`."""

    number = 4
    title = "Runs"

    BINDINGS = [
        Binding("c", "cancel", "Cancel run", id="runs.cancel"),
        Binding("r", "rerun", "Rerun", id="runs.rerun"),
    ]

    class Highlighted(Message):
        """The cursor is on this run now (None: no run)."""

        def __init__(self, run_id: str | None) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs: list[dict[str, Any]] = []
        """The runs shown, newest first, as the source gave them."""
        self.automation_names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="runs-table", classes="pane-body")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, runs: list[dict[str, Any]], now: datetime) -> None:
        """Show `runs`; called on each refresh and each second (for durations of live runs)."""
        self.runs = runs
        rows: Rows = {}
        for run in runs:
            rows[run["id"]] = (
                coloured(self.app, run["state"], run["state"]),
                cell(run["flow"]),
                cell(run["name"]),
                clock(run.get("started") or run.get("created")),
                run_duration(run, now),
                cell(cause_text(run.get("cause") or {}, self.automation_names)),
            )
        if self.table.sync(rows) and len(rows) and self.table.selected_key:
            self.post_message(self.Highlighted(self.table.selected_key))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        message.stop()
        self.post_message(self.Highlighted(message.row_key.value))

    @on(DataTable.RowSelected)
    def _selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if message.row_key.value is not None:
            self.app.post_message(OpenRun(message.row_key.value))

    def action_cancel(self) -> None:
        run_id = self.table.selected_key
        if run_id is not None:
            self._act("cancel", run_id)

    def action_rerun(self) -> None:
        run_id = self.table.selected_key
        if run_id is not None:
            self._act("rerun", run_id)

    @work(group="run-actions", exit_on_error=False)
    async def _act(self, what: str, run_id: str) -> None:
        """Cancel or rerun through the source; the run events that follow refresh the pane."""
        source = self.app.source  # type: ignore[attr-defined]
        try:
            if what == "cancel":
                run = await source.cancel_run(run_id)
                self.notify(f"run {run['name']}: {run['state']}", title="Cancel")
            else:
                run = await source.rerun(run_id)
                self.notify(f"started {run['flow']} as {run['name']}", title="Rerun")
        except SourceError as error:
            self.notify(str(error), title=what.capitalize(), severity="error")
