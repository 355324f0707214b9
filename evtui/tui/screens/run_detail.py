"""One flow run: its state timeline, task runs, parameters, cause and logs (live while it runs).

Everything is read through the source in workers. The logs follow the run until it is final
(`source.follow_logs` hands over the stored lines first); while lines arrive the run itself is
re-read at most every `RELOAD_DELAY` seconds, so states and task runs keep up without polling.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, Static

from evtui.flows.records import FINAL_STATES
from evtui.tui.screens.chain import ChainedScreen, Direction, Link, node_link
from evtui.tui.screens.lineage import LineageScreen
from evtui.tui.source import SourceError
from evtui.tui.widgets.detail_cells import (
    between,
    cell,
    clock,
    fill,
    short_id,
    stamp,
    state_cell,
    state_style,
)
from evtui.tui.widgets.json_view import JsonView
from evtui.tui.widgets.run_log import RunLog

RELOAD_DELAY = 0.5
"""Seconds between re-reads of a running run while its log lines arrive."""
LOG_LINES = 10_000
"""Lines kept in view (the newest); the store keeps `log_lines_per_run`."""
CAUSES = {
    "manual": "started by hand",
    "api": "started over the API",
    "automation": "started by an automation",
    "rerun": "a rerun",
}


class LogSearch(Input):
    """The `/` box: every keystroke re-marks the logs; `enter` or `esc` closes it."""

    BINDINGS = [Binding("escape", "close", "Close search", id="run.search_close")]

    class Closed(Message):
        """The user is done typing (the marks stay for `n`/`N`)."""

    def action_close(self) -> None:
        self.post_message(self.Closed())


def state_rows(run: dict[str, Any]) -> list[tuple[object, ...]]:
    """Each state with when it began and how long it lasted (until the next, or the end)."""
    states = run.get("states", [])
    rows: list[tuple[object, ...]] = []
    for index, state in enumerate(states):
        following = states[index + 1]["ts"] if index + 1 < len(states) else None
        lasted = between(state["ts"], following) if following else ""
        rows.append((state["state"], clock(state["ts"]), lasted, cell(state.get("message"))))
    return rows


def task_rows(run: dict[str, Any]) -> list[tuple[object, ...]]:
    return [
        (
            cell(task["task"]),
            task["state"],
            clock(task.get("started")),
            between(task.get("started"), task.get("ended")),
            cell(task.get("message")),
        )
        for task in run.get("task_runs", [])
    ]


class RunDetailScreen(ChainedScreen):
    """Pushed by `OpenRun`; `l` opens its lineage, `/` searches its logs."""

    kind = "run"

    BINDINGS = [
        Binding("slash", "search", "Search logs", id="run.search"),
        Binding("n", "find(1)", "Next match", id="run.next_match", show=False),
        Binding("N", "find(-1)", "Previous match", id="run.previous_match", show=False),
        Binding("l", "lineage", "Lineage", id="run.lineage"),
    ]

    NARROW = 120
    """Below this width the logs go under the run instead of beside it."""

    DEFAULT_CSS = """
    RunDetailScreen {
        #run-title { height: auto; background: $panel; padding: 0 1; }
        #run-body { height: 1fr; }
        #run-facts { width: 1fr; }
        #run-logs { width: 1fr; }
        DataTable { height: auto; max-height: 12; }
        #run-parameters, #run-cause { padding: 0 1; }
        #run-log { height: 1fr; }
        #run-search { display: none; }
        #run-search.-active { display: block; }
        &.-narrow {
            #run-body { layout: vertical; }
            #run-facts { width: 1fr; height: 1fr; }
            #run-logs { width: 1fr; height: 1fr; }
        }
    }
    """

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.run: dict[str, Any] | None = None
        """The run as last read, with `states` and `task_runs`."""
        self.lineage: dict[str, Any] | None = None
        self.last_seq = 0
        """The `seq` of the last log line shown (lines are numbered from 1 per run)."""
        self._reload: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"run {self.run_id} · loading…", id="run-title")
        with Horizontal(id="run-body"):
            with VerticalScroll(id="run-facts"):
                yield Label("States", classes="detail-heading")
                yield DataTable(id="run-states", cursor_type="row", zebra_stripes=True)
                yield Label("Task runs", classes="detail-heading")
                yield DataTable(id="run-tasks", cursor_type="row", zebra_stripes=True)
                yield Label("Parameters", classes="detail-heading")
                yield JsonView(id="run-parameters")
                yield Label("Cause", classes="detail-heading")
                yield Static(id="run-cause")
            with Vertical(id="run-logs"):
                yield Label("Logs", id="run-log-heading", classes="detail-heading")
                yield RunLog(LOG_LINES, id="run-log")
                yield LogSearch(placeholder="search the logs", id="run-search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RunLog).focus()
        self._load()
        self._follow()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    @work(exclusive=True, group="run", exit_on_error=False, name="run detail")
    async def _load(self) -> None:
        self._reload = None
        try:
            self.run = await self.source.run(self.run_id)
            self.lineage = await self.source.lineage(self.run_id)
        except SourceError as error:
            self.query_one("#run-title", Static).update(f"run {self.run_id}: {error}")
            return
        self._show()

    @work(group="run-logs", exit_on_error=False, name="run logs")
    async def _follow(self) -> None:
        log = self.query_one(RunLog)
        async for batch in self.source.follow_logs(self.run_id):
            fresh = [record for record in batch if record["seq"] > self.last_seq]
            if fresh:
                self.last_seq = fresh[-1]["seq"]
                log.add(fresh)
                self._show_log_heading()
                self._reload_soon()
        self._load()

    def _reload_soon(self) -> None:
        if self._reload is None and not self._is_final():
            self._reload = self.set_timer(RELOAD_DELAY, self._load)

    def _is_final(self) -> bool:
        return self.run is not None and self.run["state"] in FINAL_STATES

    def _show(self) -> None:
        run = self.run
        assert run is not None
        self.query_one("#run-title", Static).update(self._title(run))
        fill(
            self.query_one("#run-states", DataTable),
            ("state", "at", "lasted", "message"),
            [(state_cell(self.app, row[0]), *row[1:]) for row in state_rows(run)],
        )
        fill(
            self.query_one("#run-tasks", DataTable),
            ("task", "state", "started", "took", "message"),
            [(row[0], state_cell(self.app, row[1]), *row[2:]) for row in task_rows(run)],
        )
        self.query_one(JsonView).show(run["parameters"])
        self.query_one("#run-cause", Static).update(self._cause(run))
        self._show_log_heading()

    def _title(self, run: dict[str, Any]) -> Content:
        took = between(run.get("started"), run.get("ended") if self._is_final() else None)
        parts: list[str | tuple[str, str]] = [
            (f"{run['flow']}/{run['name']}", "bold $accent"),
            ("  ·  ", "dim"),
            (run["state"], state_style(self.app, run["state"])),
        ]
        if run.get("state_message"):
            parts += [("  ", ""), (run["state_message"], "dim")]
        parts += [("  ·  created ", "dim"), stamp(run["created"])]
        if took:
            parts += [("  ·  took ", "dim"), took]
        parts += [("  ·  id ", "dim"), run["id"]]
        return Content.assemble(*parts)

    def _cause(self, run: dict[str, Any]) -> Text:
        cause = run["cause"]
        text = Text(CAUSES.get(cause["kind"], cause["kind"]))
        upstream = (self.lineage or {}).get("upstream", [])
        for node in reversed(upstream[-2:]):
            text.append("\n← ")
            text.append(node_link(node).label)
        if not upstream and cause.get("event_id"):
            text.append(f"\n← event {short_id(cause['event_id'])} (no longer stored)")
        if upstream:
            text.append("\n[ goes there", "dim")
        return text

    def _show_log_heading(self) -> None:
        log = self.query_one(RunLog)
        found = log.position()
        live = "" if self._is_final() else " · live"
        heading = f"Logs ({len(log.records)} lines{live})" + (f"  {found}" if found else "")
        self.query_one("#run-log-heading", Label).update(heading)

    async def links(self, direction: Direction) -> list[Link]:
        """Back: the run's direct cause (firing, event or original run); forward: the events it
        emitted."""
        lineage = await self.source.lineage(self.run_id)
        if direction == "back":
            return [node_link(node) for node in lineage["upstream"][-1:]]
        return [node_link(node) for node in lineage["downstream"] if node.get("depth") == 1]

    def action_lineage(self) -> None:
        self.app.push_screen(LineageScreen(self.run_id))

    def action_search(self) -> None:
        search = self.query_one("#run-search", Input)
        search.add_class("-active")
        search.focus()

    def action_find(self, step: int) -> None:
        log = self.query_one(RunLog)
        if not log.find(step):
            self.notify("no match" if log.term else "search with /", timeout=2)
        self._show_log_heading()

    @on(Input.Changed, "#run-search")
    def _search(self, message: Input.Changed) -> None:
        self.query_one(RunLog).search(message.value)
        self._show_log_heading()

    @on(Input.Submitted, "#run-search")
    @on(LogSearch.Closed)
    def _close_search(self) -> None:
        self.query_one(LogSearch).remove_class("-active")
        self.query_one(RunLog).focus()
