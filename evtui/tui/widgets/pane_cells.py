"""Cells of the pane tables: clock times to the second and states in their theme colours.

Panes share the width of a terminal, so their times are shorter than the detail screens'
(`12:00:03`); durations, ids and the state palette are the detail screens' (`detail_cells`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App

from evtui.tui.columns import one_line
from evtui.tui.widgets.detail_cells import STATE_COLOURS, parse_time

PANE_COLOURS = STATE_COLOURS | {"armed": "success", "counting": "accent", "Cancelled": "warning"}
"""Theme variable per run, action or automation state; any other state is muted."""

ACTION_MARKS = {"executed": "✓", "failed": "✗", "running": "…", "skipped": "skip"}


def coloured(app: App[object], label: str, state: str) -> Text:
    """`label` in the theme colour of `state` (the palette follows the app's theme)."""
    colour = app.theme_variables.get(PANE_COLOURS.get(state, "text-muted"), "")
    return Text(one_line(label), style=colour, end="")


def clock(value: str | None) -> str:
    """The local time of day to the second, or "" when unknown."""
    at = parse_time(value)
    return at.astimezone().strftime("%H:%M:%S") if at is not None else ""
