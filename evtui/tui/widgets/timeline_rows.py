"""What the runs timeline draws: a time axis over the last hour and one Gantt-like bar per run.

Pure functions of runs (the source's JSON), a width and "now", so the screen only feeds them
and tests can read the text without a terminal. The bar itself is the Runs pane's `timeline`
drawn wider: one cell is `WINDOW_SECONDS / cells`, now is the right edge, a run shorter than a
cell still shows as one cell, and a running run ends at now, so it grows as the clock moves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import App

from evtui.tui.columns import fit_cell
from evtui.tui.widgets.detail_cells import parse_time
from evtui.tui.widgets.pane_cells import coloured
from evtui.tui.widgets.runs_pane import TIMELINE_SECONDS, run_duration, timeline

WINDOW_SECONDS = TIMELINE_SECONDS
TICK = timedelta(minutes=10)
"""A grid line and a clock label every ten minutes of local time."""
GAP = " "
STATE_CELLS = 10
TOOK_CELLS = 11
"""`59 min 59 s` is the longest duration in the last hour."""
GRID = "┆"
NOW = "now"


@dataclass(frozen=True)
class TimelineLayout:
    """Cells per column of a row; the bar takes what the labels leave."""

    name: int
    bar: int

    @classmethod
    def for_width(cls, width: int) -> TimelineLayout:
        labels = STATE_CELLS + TOOK_CELLS + 3 * len(GAP)
        name = max(12, min(40, (width - labels) * 30 // 100))
        return cls(name, max(0, width - labels - name))


def in_last_hour(run: dict[str, Any], now: datetime) -> bool:
    """Still going (or waiting to start), or ended within the hour."""
    ended = parse_time(run.get("ended"))
    return ended is None or (now - ended).total_seconds() <= WINDOW_SECONDS


def ticks(now: datetime, cells: int) -> list[tuple[int, datetime]]:
    """Each ten-minute mark of local time inside the hour, with the cell it falls in."""
    if cells <= 0:
        return []
    start = now - timedelta(seconds=WINDOW_SECONDS)
    local = start.astimezone()
    mark = local.replace(minute=local.minute - local.minute % 10, second=0, microsecond=0)
    found = []
    while (mark := mark + TICK) <= now:
        cell = int((mark - start).total_seconds() * cells / WINDOW_SECONDS)
        if cell < cells:
            found.append((cell, mark))
    return found


def axis(layout: TimelineLayout, now: datetime) -> str:
    """The column titles, then clock times at their marks and `now` at the right edge."""
    line = [" "] * layout.bar
    free = layout.bar - len(NOW) - 1
    for cell, mark in ticks(now, layout.bar):
        label = mark.strftime("%H:%M")
        if cell + len(label) <= free and all(c == " " for c in line[max(0, cell - 1) : cell]):
            line[cell : cell + len(label)] = label
    if layout.bar >= len(NOW):
        line[-len(NOW) :] = NOW
    titles = (fit_cell(title, cells) for title, cells in (("STATE", STATE_CELLS),
              ("RUN", layout.name), ("TOOK", TOOK_CELLS)))  # fmt: skip
    return GAP.join((*titles, "".join(line)))


def bar(app: App[object], run: dict[str, Any], now: datetime, cells: int) -> Text:
    """The run's cells in its state colour over a dim grid (a line at each ten minutes)."""
    if cells <= 0:
        return Text(end="")
    drawn = timeline(run, now, cells)
    grid = {cell for cell, _ in ticks(now, cells)}
    text = Text(end="")
    for start, end, filled in _runs_of(drawn):
        if filled:
            text.append_text(coloured(app, drawn[start:end], run["state"]))
        else:
            blank = "".join(GRID if cell in grid else " " for cell in range(start, end))
            text.append(blank, "dim")
    return text


def _runs_of(drawn: str) -> Iterable[tuple[int, int, bool]]:
    """Stretches of filled (`█`) and empty cells: (start, end, filled)."""
    start = 0
    for index in range(1, len(drawn) + 1):
        if index == len(drawn) or (drawn[index] == "█") != (drawn[start] == "█"):
            yield start, index, drawn[start] == "█"
            start = index


def row(app: App[object], run: dict[str, Any], layout: TimelineLayout, now: datetime) -> Text:
    """State, `flow/run`, how long it took (so far), and the bar."""
    took = run_duration(run, now) or "waiting"
    name = fit_cell(f"{run['flow']}/{run['name']}", layout.name, middle=True)
    return Text.assemble(
        coloured(app, fit_cell(run["state"], STATE_CELLS), run["state"]),
        GAP,
        name,
        GAP,
        (fit_cell(took, TOOK_CELLS), "dim"),
        GAP,
        bar(app, run, now, layout.bar),
        end="",
    )


def summary(runs: list[dict[str, Any]]) -> str:
    """How many runs the hour holds, and how many of them run or failed."""
    if not runs:
        return "No runs in the last hour: x on the main screen runs a flow."
    states = [run["state"] for run in runs]
    parts = [f"{len(runs)} run{'s' if len(runs) != 1 else ''} in the last hour"]
    for state in ("Running", "Pending", "Failed", "Crashed", "Cancelled"):
        if state in states:
            parts.append(f"{states.count(state)} {state.lower()}")
    return " · ".join(parts)
