"""`T`: the runs of the last hour as a Gantt chart, one row per run (newest on top) or, with
`f`, one row per flow with all its runs on it.

People read "what ran when, and what overlapped" faster from bars than from a table of times.
The rows are the runs the main screen already keeps (it re-reads them whenever a run event
arrives), so this screen adds no reads of its own: it asks for one fresh read when it opens,
then redraws each second, which is what makes running bars grow. `enter` opens the run (on a
flow's row, its newest run).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from evtui.tui.messages import OpenRun
from evtui.tui.widgets.timeline_rows import (
    TimelineLayout,
    axis,
    by_flow,
    flow_row,
    in_last_hour,
    row,
    summary,
)

TICK_SECONDS = 1.0


def clock() -> datetime:
    """Now, the right edge of the chart (a function, so a snapshot can stop the clock)."""
    return datetime.now(UTC)


class RunsTimeline(OptionList):
    """The rows; keyed by run id, so the cursor stays on its run as new runs come in."""

    BINDINGS = [
        Binding("k", "cursor_up", "Up", id="timeline.up", show=False),
        Binding("j", "cursor_down", "Down", id="timeline.down", show=False),
        Binding("g", "first", "First", id="timeline.first", show=False),
        Binding("G", "last", "Last", id="timeline.last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True)
        self.run_ids: list[str] = []

    def show(self, rows: list[tuple[str, Any]]) -> None:
        """Rows of (run id, prompt): prompts replaced in place while the runs are the same,
        else the list is rebuilt with the cursor kept on its run."""
        ids = [run_id for run_id, _ in rows]
        if ids == self.run_ids:
            for run_id, prompt in rows:
                self.replace_option_prompt(run_id, prompt)
            return
        selected = self.highlighted_option.id if self.highlighted_option else None
        self.set_options(Option(prompt, id=run_id) for run_id, prompt in rows)
        self.run_ids = ids
        if rows:
            self.highlighted = ids.index(selected) if selected in ids else 0


class RunsTimelineScreen(Screen[None]):
    """The chart, its axis, a one-line summary, and the keys in the footer. The axis and the
    rows start in the same column and share one `TimelineLayout`, so the marks line up."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="timeline.back"),
        Binding("enter", "open", "Open run", id="timeline.open", priority=True),
        Binding(
            "f",
            "toggle_flows",
            "Per flow",
            id="timeline.per-flow",
            tooltip="One row per flow, or one per run",
        ),
    ]

    flows: var[bool] = var(False, init=False)
    """One row per flow (all its runs' bars on it) instead of one per run."""

    DEFAULT_CSS = """
    RunsTimelineScreen {
        #timeline-summary { height: 1; padding: 0 1; background: $panel; text-style: bold; }
        #timeline-axis { height: 1; color: $text-muted; text-style: bold; }
        RunsTimeline {
            height: 1fr; background: $surface;
            scrollbar-gutter: stable; scrollbar-size-vertical: 1;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.newest: dict[str, str] = {}
        """Per flow, its newest run's id (what enter opens on a flow's row)."""

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-summary")
        yield Static(id="timeline-axis")
        yield RunsTimeline(id="timeline-rows")
        yield Footer()

    @property
    def rows(self) -> RunsTimeline:
        return self.query_one(RunsTimeline)

    def on_mount(self) -> None:
        self.app.main.request_refresh()  # type: ignore[attr-defined]
        self.redraw()
        self.set_interval(TICK_SECONDS, self.redraw, name="timeline-tick")
        self.rows.focus()

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        """Axis, rows and summary for the runs the main screen holds now."""
        now = clock()
        runs = [run for run in self.app.main.runs if in_last_hour(run, now)]  # type: ignore[attr-defined]
        layout = TimelineLayout.for_width(self.rows.scrollable_content_region.width)
        self.query_one("#timeline-summary", Static).update(
            Content.assemble(("Runs timeline", "bold $accent"), "  ", summary(runs)), layout=False
        )
        line = axis(layout, now, flows=self.flows)
        self.query_one("#timeline-axis", Static).update(Content(line), layout=False)
        if self.flows:
            grouped = by_flow(runs)
            self.newest = {flow: group[0]["id"] for flow, group in grouped.items()}
            rows = [
                (f"flow:{flow}", flow_row(self.app, group, layout, now))
                for flow, group in grouped.items()
            ]
        else:
            rows = [(run["id"], row(self.app, run, layout, now)) for run in runs]
        self.rows.show(rows)

    def watch_flows(self) -> None:
        self.redraw()

    def action_toggle_flows(self) -> None:
        self.flows = not self.flows

    @on(OptionList.OptionSelected)
    def _selected(self, message: OptionList.OptionSelected) -> None:
        key = message.option.id or ""
        run_id = self.newest.get(key.removeprefix("flow:")) if key.startswith("flow:") else key
        if run_id:
            self.app.post_message(OpenRun(run_id))

    def action_open(self) -> None:
        self.rows.action_select()
