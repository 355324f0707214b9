"""What the runs timeline draws: a time axis over the last hour and Gantt-like bars, one row per
run or one per flow (all its runs' bars on one line).

Pure functions of runs (the source's JSON), a width and "now", so the screen only feeds them
and tests can read the text without a terminal. The bar itself is the Runs pane's `timeline`
drawn wider: one cell is `WINDOW_SECONDS / cells`, now is the right edge, a run shorter than a
cell still shows as one cell, and a running run ends at now, so it grows as the clock moves.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import App

from evtui.tui.columns import fit_cell
from evtui.tui.widgets.detail_cells import parse_time
from evtui.tui.widgets.pane_cells import coloured
from evtui.tui.widgets.runs_pane import run_duration

WINDOW_SECONDS = 3600.0
TICK = timedelta(minutes=10)
"""A grid line and a clock label every ten minutes of local time."""
GAP = " "
STATE_CELLS = 10
TOOK_CELLS = 11
"""`59 min 59 s` is the longest duration in the last hour."""
GRID = "┆"
NOW = "now"


def timeline(run: dict[str, Any], now: datetime, cells: int = 12) -> str:
    """Where the run sat in the last hour, Gantt-like: `····███·····` (now is the right edge).

    A run shorter than a cell still shows as one cell; a run outside the hour shows nothing.
    """
    started = parse_time(run.get("started"))
    if started is None:
        return "·" * cells
    ended = parse_time(run.get("ended")) or now
    per_cell = WINDOW_SECONDS / cells

    def cell_of(moment: datetime) -> int:
        return int((WINDOW_SECONDS - (now - moment).total_seconds()) // per_cell)

    first, last = max(cell_of(started), 0), min(cell_of(ended), cells - 1)
    if last < 0 or first >= cells:
        return "·" * cells
    return "·" * first + "█" * (max(last, first) - first + 1) + "·" * (cells - max(last, first) - 1)


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


def axis(layout: TimelineLayout, now: datetime, *, flows: bool = False) -> str:
    """The column titles, then clock times at their marks and `now` at the right edge."""
    line = [" "] * layout.bar
    free = layout.bar - len(NOW) - 1
    for cell, mark in ticks(now, layout.bar):
        label = mark.strftime("%H:%M")
        if cell + len(label) <= free and all(c == " " for c in line[max(0, cell - 1) : cell]):
            line[cell : cell + len(label)] = label
    if layout.bar >= len(NOW):
        line[-len(NOW) :] = NOW
    columns = (
        ("STATE", STATE_CELLS),
        ("FLOW" if flows else "RUN", layout.name),
        ("RUNS" if flows else "TOOK", TOOK_CELLS),
    )
    titles = (fit_cell(title, cells) for title, cells in columns)
    return GAP.join((*titles, "".join(line)))


SHOWN_FIRST = (
    "Running",
    "Retrying",
    "Cancelling",
    "Pending",
    "Scheduled",
    "Failed",
    "Crashed",
    "TimedOut",
    "Cancelled",
)
"""Where runs of one flow share a cell, whose state colours it: a live run, else a failure,
else any (`Completed`)."""


def _rank(state: str | None) -> int:
    if state is None:
        return len(SHOWN_FIRST) + 1
    return SHOWN_FIRST.index(state) if state in SHOWN_FIRST else len(SHOWN_FIRST)


def cell_states(runs: Iterable[dict[str, Any]], now: datetime, cells: int) -> list[str | None]:
    """Per cell of the bar, the state of the run shown there (None: no run)."""
    states: list[str | None] = [None] * cells
    if cells <= 0:
        return states
    for run in runs:
        for cell, mark in enumerate(timeline(run, now, cells)):
            if mark == "█" and _rank(run["state"]) < _rank(states[cell]):
                states[cell] = run["state"]
    return states


def bar(app: App[object], runs: Iterable[dict[str, Any]], now: datetime, cells: int) -> Text:
    """The runs' cells in their state colours over a dim grid (a line at each ten minutes)."""
    grid = {cell for cell, _ in ticks(now, cells)}
    text = Text(end="")
    states = cell_states(runs, now, cells)
    for state, group in itertools.groupby(range(cells), key=states.__getitem__):
        stretch = list(group)
        if state is None:
            text.append("".join(GRID if cell in grid else " " for cell in stretch), "dim")
        else:
            text.append_text(coloured(app, "█" * len(stretch), state))
    return text


def row(app: App[object], run: dict[str, Any], layout: TimelineLayout, now: datetime) -> Text:
    """State, `flow/run`, how long it took (so far), and the bar."""
    took = run_duration(run, now) or "waiting"
    return _row(app, run["state"], f"{run['flow']}/{run['name']}", took, [run], layout, now)


def flow_row(
    app: App[object], runs: list[dict[str, Any]], layout: TimelineLayout, now: datetime
) -> Text:
    """One flow: its newest run's state, the flow, how many runs, and all their bars."""
    count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    return _row(app, runs[0]["state"], runs[0]["flow"], count, runs, layout, now)


def _row(
    app: App[object],
    state: str,
    name: str,
    took: str,
    runs: list[dict[str, Any]],
    layout: TimelineLayout,
    now: datetime,
) -> Text:
    return Text.assemble(
        coloured(app, fit_cell(state, STATE_CELLS), state),
        GAP,
        fit_cell(name, layout.name, middle=True),
        GAP,
        (fit_cell(took, TOOK_CELLS), "dim"),
        GAP,
        bar(app, runs, now, layout.bar),
        end="",
    )


def by_flow(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Runs grouped by flow, in the order of each flow's newest run (runs come newest first)."""
    flows: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        flows.setdefault(run["flow"], []).append(run)
    return flows


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
