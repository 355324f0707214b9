"""Cells the detail screens share: times, durations and coloured states from the JSON answers.

The source hands out plain JSON (ISO times, state names), the same over HTTP as in process, so
these read strings, not engine objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.text import Text
from textual.app import App
from textual.widgets import DataTable

from evtui.flows.records import STATE_TYPES
from evtui.tui.columns import one_line
from evtui.tui.themes import run_state_colour

STATE_COLOURS = {
    "Completed": "success",
    "executed": "success",
    "fired": "success",
    "Running": "accent",
    "Retrying": "accent",
    "running": "accent",
    "Pending": "text-secondary",
    "Scheduled": "text-secondary",
    "AwaitingRetry": "warning",
    "Cancelling": "warning",
    "counting": "warning",
    "armed": "warning",
    "paused": "warning",
    "pending": "text-secondary",
    "Failed": "error",
    "Crashed": "error",
    "TimedOut": "error",
    "failed": "error",
}
"""Theme variable per state (run, task, action or explain status); others are dim."""


def cell(value: object) -> Text:
    """Table cells hold senders' text, so never read it as markup."""
    return Text(one_line("" if value is None else str(value)), end="")


def state_variable(app: App[object], state: str | None) -> str | None:
    """The theme variable that colours a state: evtui's run-state colour (`$run-failed`) when
    the theme has it, else a generic one (`$error`); None for a state shown dim."""
    variables = app.theme_variables
    if state in STATE_TYPES and run_state_colour(state) in variables:
        return run_state_colour(state)
    name = STATE_COLOURS.get(state or "")
    return name if name in variables else None


def state_style(app: App[object], state: str | None) -> str:
    """The `Content` style of a state."""
    name = state_variable(app, state)
    return f"bold ${name}" if name else "dim"


def state_cell(app: App[object], state: str | None) -> Text:
    """A state name in its theme colour (the palette follows the app's theme)."""
    name = state_variable(app, state)
    style = f"bold {app.theme_variables[name]}" if name else "dim"
    return Text(one_line(state or ""), style=style, end="")


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def clock(value: str | None) -> str:
    """A time of day in local time with milliseconds, or "" when there is none."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3]


def stamp(value: str | None) -> str:
    """A date and time in local time, to the second."""
    moment = parse_time(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""


def seconds_text(seconds: float) -> str:
    """A duration the way people read it: 0.42 s, 12.3 s, 4 min 05 s, 2 h 03 min."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def between(start: str | None, end: str | None) -> str:
    """The time from `start` to `end`, or "" when either is unknown."""
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return ""
    return seconds_text(max(0.0, (last - first).total_seconds()))


def short_id(value: str | None) -> str:
    """The first block of a uuid: enough to tell ids apart on one screen."""
    return (value or "").split("-")[0]


def fill(
    table: DataTable[object], columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Replace a table's rows (and set its columns the first time)."""
    if not table.columns:
        table.add_columns(*columns)
    table.clear()
    table.add_rows(rows)
