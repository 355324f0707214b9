"""The explain answer for one event: per automation, fired (with the firing) or why not.

`source.explain(event_id)` answers with one entry per automation (see
`evtui.automations.explain`): a `status` (fired, disabled, paused, not_matched, not_armed,
armed, counting, not_counted, pending), the `reason` in words and the `firings` it caused.
Fired rows come first (they are what the user opened the event to find), then by name.
`enter` on a fired row opens its firing.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from evtui.tui.messages import OpenFiring
from evtui.tui.widgets.detail_cells import cell, clock, short_id, state_cell

STATUS_ORDER = ("fired", "counting", "armed", "not_counted", "not_armed", "pending", "paused")
"""Statuses listed first (in this order); the rest (not matched, disabled) follow."""


def status_rank(answer: dict[str, Any]) -> tuple[int, str]:
    """Sort key: status (fired first), then name, so the order never depends on storage."""
    status = answer.get("status", "")
    rank = STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)
    return rank, str(answer.get("name", "")).casefold()


def explain_reason(answer: dict[str, Any]) -> str:
    """The reason, or for a fired automation which firing(s) and when."""
    firings = answer.get("firings") or []
    if answer.get("status") == "fired" and firings:
        shown = ", ".join(f"{short_id(f['id'])} at {clock(f['occurred'])}" for f in firings)
        return f"firing {shown}  (enter opens it)"
    return str(answer.get("reason", ""))


class ExplainTable(DataTable[object]):
    """One row per automation: status, name, reason."""

    DEFAULT_CSS = """
    ExplainTable { height: auto; max-height: 12; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.answers: list[dict[str, Any]] = []
        """The answers in the order shown."""

    def on_mount(self) -> None:
        self.add_columns("status", "automation", "why")

    def show(self, answers: list[dict[str, Any]]) -> None:
        self.answers = sorted(answers, key=status_rank)
        self.clear()
        self.add_rows(
            (
                state_cell(self.app, answer.get("status", "").replace("_", " ")),
                cell(answer.get("name", answer.get("automation_id"))),
                cell(explain_reason(answer)),
            )
            for answer in self.answers
        )

    def firing_ids(self) -> list[str]:
        """Ids of the firings this event caused, across automations."""
        return [f["id"] for answer in self.answers for f in answer.get("firings") or []]

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        firings = self.answers[message.cursor_row].get("firings") or []
        if firings:
            message.stop()
            self.app.post_message(OpenFiring(firings[0]["id"]))
