"""The Automations pane: each automation's live state and how often it fired.

The state is what a user asks first: `disabled`, `paused` (by the rate cap, with why),
`counting n/N` with the time its window has left, or `armed` (listening, nothing counted yet).
Time left is counted down from the window's end on every one-second tick, with no new request.
`space` enables or disables, `d` deletes (after a yes), `enter` or `e` opens the automation in
the trigger editor, `y` opens the editor on an unsaved copy (saved as a new automation with
`ctrl+s`: a copy saved at once would fire every action twice), `n` starts a new one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from evtui.tui.editor_draft import definition_of_automation
from evtui.tui.messages import OpenAutomation
from evtui.tui.screens.automation_editor import AutomationEditor
from evtui.tui.screens.confirm import ConfirmScreen
from evtui.tui.source import SourceError
from evtui.tui.widgets.detail_cells import cell, parse_time, seconds_text
from evtui.tui.widgets.keyed_table import KeyedTable, Rows
from evtui.tui.widgets.pane import Pane
from evtui.tui.widgets.pane_cells import coloured

COLUMNS = ("NAME", "STATE", "FIRED")
BAR_CELLS = 6
"""Width of the fire-count bar at the busiest automation."""
BAR = "▏▎▍▌▋▊▉█"


def live_state(automation: dict[str, Any], now: datetime) -> tuple[str, str]:
    """(label, state kind) for an automation's JSON as `TuiSource.automations()` gives it.

    Of several open windows (one per `for_each` key) the fullest is shown, with how many more.
    """
    if automation.get("paused"):
        return f"paused: {automation['paused']}", "paused"
    if not automation.get("enabled", True):
        return "disabled", "disabled"
    buckets = automation.get("state") or []
    if not buckets:
        return "armed", "armed"
    bucket = max(buckets, key=lambda b: (b["count"] / max(b["threshold"], 1), b["end"]))
    end = parse_time(bucket["end"])
    left = max(0.0, (end - now).total_seconds()) if end is not None else 0.0
    more = f" (+{len(buckets) - 1})" if len(buckets) > 1 else ""
    if bucket["armed"] and not bucket["count"]:
        return f"armed · {seconds_text(left)} left{more}", "counting"
    counted = f"{bucket['count']}/{bucket['threshold']}"
    return f"counting {counted} · {seconds_text(left)} left{more}", "counting"


def fired_bar(fired: int, busiest: int) -> Text:
    """The count and a bar scaled to the busiest automation, so hot ones stand out."""
    eighths = round(fired / busiest * BAR_CELLS * 8) if busiest else 0
    full, rest = divmod(eighths, 8)
    bar = "█" * full + (BAR[rest - 1] if rest else "")
    return Text.assemble(f"{fired:>5} ", (bar, "bold"), end="")


class AutomationsPane(Pane):
    """Every automation by name; the screen feeds it with `show`."""

    number = 2
    title = "Automations"

    BINDINGS = [
        Binding("space", "toggle", "Enable/disable", id="automations.toggle"),
        Binding("d", "delete", "Delete", id="automations.delete"),
        Binding("e", "edit", "Edit", id="automations.edit"),
        Binding("y", "duplicate", "Duplicate", id="automations.duplicate"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.automations: list[dict[str, Any]] = []
        """As the source gave them at the last refresh."""

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="automations-table", classes="pane-body")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def names(self) -> dict[str, str]:
        return {a["id"]: a["name"] for a in self.automations}

    def show(self, automations: list[dict[str, Any]], now: datetime) -> None:
        self.automations = automations
        busiest = max((a.get("fired", 0) for a in automations), default=0)
        rows: Rows = {}
        for automation in automations:
            label, kind = live_state(automation, now)
            rows[automation["id"]] = (
                cell(automation["name"]),
                coloured(self.app, label, kind),
                fired_bar(automation.get("fired", 0), busiest),
            )
        self.table.sync(rows)

    def _selected(self) -> dict[str, Any] | None:
        key = self.table.selected_key
        return next((a for a in self.automations if a["id"] == key), None)

    @on(DataTable.RowSelected)
    def _open(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if message.row_key.value is not None:
            self.app.post_message(OpenAutomation(message.row_key.value))

    def action_edit(self) -> None:
        automation = self._selected()
        if automation is not None:
            self.app.post_message(OpenAutomation(automation["id"]))

    def action_duplicate(self) -> None:
        automation = self._selected()
        if automation is None:
            return
        copy = definition_of_automation(automation)
        copy["name"] = f"{automation['name']} (copy)"
        title = f"Duplicate of {automation['name']!r}"
        self.app.push_screen(AutomationEditor(definition=copy, title=title))

    def action_toggle(self) -> None:
        automation = self._selected()
        if automation is not None:
            self._set_enabled(automation, not automation["enabled"])

    def action_delete(self) -> None:
        automation = self._selected()
        if automation is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(automation)

        question = f"Delete the automation {automation['name']!r}? This cannot be undone."
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="automation-actions", exit_on_error=False)
    async def _set_enabled(self, automation: dict[str, Any], enabled: bool) -> None:
        """The change's `evtui.automation.updated` event refreshes the pane."""
        try:
            await self.app.source.set_enabled(automation["id"], enabled)  # type: ignore[attr-defined]
        except SourceError as error:
            self.notify(str(error), title=automation["name"], severity="error")
            return
        self.notify(f"{automation['name']}: {'enabled' if enabled else 'disabled'}")

    @work(group="automation-actions", exit_on_error=False)
    async def _delete(self, automation: dict[str, Any]) -> None:
        try:
            await self.app.source.delete_automation(automation["id"])  # type: ignore[attr-defined]
        except SourceError as error:
            self.notify(str(error), title=automation["name"], severity="error")
            return
        self.notify(f"deleted {automation['name']}")
