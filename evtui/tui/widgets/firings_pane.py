"""The Firings pane: what fired, newest first: when, which automation, on which event, and
what each action did (`run-flow ✓`, `call-webhook ✗`). `enter` opens the firing."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable

from evtui.tui.messages import OpenFiring
from evtui.tui.widgets.detail_cells import cell, short_id
from evtui.tui.widgets.keyed_table import KeyedTable, Rows
from evtui.tui.widgets.pane import Pane
from evtui.tui.widgets.pane_cells import ACTION_MARKS, clock, coloured

COLUMNS = ("TIME", "AUTOMATION", "ACTIONS", "EVENT")


def actions_summary(firing: dict[str, Any]) -> tuple[str, str]:
    """(`run-flow ✓ call-webhook ✗`, the worst state among them) for the colour."""
    actions = firing.get("actions") or []
    if not actions:
        return "none yet", "running"
    words = [f"{a['action_type']} {ACTION_MARKS.get(a['state'], '?')}" for a in actions]
    states = {a["state"] for a in actions}
    worst = next((s for s in ("failed", "running", "skipped") if s in states), "executed")
    return " ".join(words), worst


class FiringsPane(Pane):
    """The newest firings first; the screen feeds it with `show`."""

    number = 3
    title = "Firings"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.firings: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="firings-table", classes="pane-body")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, firings: list[dict[str, Any]], event_names: dict[str, str]) -> None:
        """`event_names` maps event ids to names (a firing stores only the id)."""
        self.firings = firings
        rows: Rows = {}
        for firing in firings:
            event_id = firing.get("triggering_event_id")
            event = event_names.get(event_id or "", short_id(event_id)) if event_id else "(time)"
            label, worst = actions_summary(firing)
            rows[firing["id"]] = (
                clock(firing["occurred"]),
                cell(firing.get("automation_name") or short_id(firing["automation_id"])),
                coloured(self.app, label, worst),
                cell(event),
            )
        self.table.sync(rows)

    @on(DataTable.RowSelected)
    def _open(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if message.row_key.value is not None:
            self.app.post_message(OpenFiring(message.row_key.value))
