"""The Logs pane: the lines of the run selected in the Runs pane, live while it runs.

It follows like the Events pane (toolong's habit): new lines keep the end in view until the
user scrolls up, which pauses following and counts the lines that arrive meanwhile (`+N new`);
`end` or `G` resumes, `s` toggles; `w` wraps long lines and `t` hides or shows the times. Lines
come in batches from `TuiSource.follow_logs` and are written with one `write_lines` per batch,
into a `RecordLog` (levels in colour) that keeps a bounded number of records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.reactive import var
from textual.widgets import Static

from evtui.tui.widgets.detail_cells import short_id
from evtui.tui.widgets.pane import Pane
from evtui.tui.widgets.pane_cells import clock
from evtui.tui.widgets.run_log import RecordLog
from evtui.tui.widgets.view_toggles import toggles

MAX_LINES = 5_000
"""Records kept on screen for one run (the store keeps more: `evtui runs logs`)."""


class FollowLog(RecordLog):
    """A `RecordLog` that any upward move pauses; `end` resumes. Times to the second (a pane
    is narrow); the run detail shows milliseconds."""

    BINDINGS = [
        Binding("k,up", "up", "Up", id="logs.up", show=False),
        Binding("j,down", "down", "Down", id="logs.down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", id="logs.page-up", show=False),
        Binding("pagedown,ctrl+f", "page_down", "Page down", id="logs.page-down", show=False),
        Binding("g,home", "top", "Top", id="logs.top", show=False),
        Binding(
            "end,G", "follow", "Follow", id="logs.follow", tooltip="Jump to the end and follow"
        ),
        Binding("s", "toggle_follow", "Autoscroll", id="logs.autoscroll"),
    ]

    following: var[bool] = var(True)
    new_count: var[int] = var(0)
    """Lines written since following paused."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(MAX_LINES, time=clock, id=id, classes=classes)

    def watch_following(self, following: bool) -> None:
        self.auto_scroll = following
        if following:
            self.new_count = 0
            self.scroll_end(animate=False)

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        records = list(records)
        if not self.following:
            self.new_count += len(records)
        super().add(records)

    def reset(self) -> None:
        super().reset()
        self.following = True
        self.new_count = 0

    def action_up(self) -> None:
        self.following = False
        self.scroll_up(animate=False)

    def action_down(self) -> None:
        self.scroll_down(animate=False)

    def action_page_up(self) -> None:
        self.following = False
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_top(self) -> None:
        self.following = False
        self.scroll_home(animate=False)

    def action_follow(self) -> None:
        self.following = True

    def action_toggle_follow(self) -> None:
        self.following = not self.following

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False


class LogsPane(Pane):
    """Shows one run's log; `follow(run_id)` switches runs."""

    number = 5
    title = "Logs"

    DEFAULT_CSS = """
    LogsPane {
        #logs-view { height: 1fr; scrollbar-size-vertical: 1; }
        #logs-state { height: 1; background: $panel; padding: 0 1; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run_id: str | None = None
        self.run_name = ""
        self.ended = False

    def compose(self) -> ComposeResult:
        yield FollowLog(id="logs-view", classes="pane-body")
        yield Static(id="logs-state")

    @property
    def view(self) -> FollowLog:
        return self.query_one(FollowLog)

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.view, "following", self._show_state, init=False)
        self.watch(self.view, "new_count", self._show_state, init=False)
        self.watch(self.view, "wrap", self._show_state, init=False)
        self.watch(self.view, "show_time", self._show_state, init=False)
        self._show_state()

    def follow(self, run: dict[str, Any] | None) -> None:
        """Show `run`'s log (stored lines, then live ones); None empties the pane."""
        run_id = run["id"] if run else None
        if run_id == self.run_id:
            return
        self.run_id = run_id
        self.run_name = run["name"] if run else ""
        self.ended = False
        self.view.reset()
        self._show_state()
        if run_id is not None:
            self._tail(run_id)
        else:
            self.workers.cancel_group(self, "logs")

    @work(exclusive=True, group="logs", exit_on_error=False)
    async def _tail(self, run_id: str) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        async for batch in source.follow_logs(run_id):
            self.view.add(batch)
        self.ended = True
        self._show_state()

    def _show_state(self, *_: object) -> None:
        view = self.view
        parts: list[tuple[str, str] | str] = []
        if view.following:
            parts.append(("▼ following", "bold $success"))
        else:
            parts.append(("‖ paused", "bold $warning"))
            if view.new_count:
                parts += ["  ", (f" +{view.new_count:,} new ", "bold $background on $warning")]
            parts.append(("  end: follow", "dim"))
        if self.run_id is None:
            parts.append(("  │  select a run in 4 Runs", "dim"))
        else:
            parts += [
                ("  │  run ", "dim"),
                (self.run_name, "bold"),
                (f" {short_id(self.run_id)}", "dim"),
            ]
            if self.ended:
                parts.append(("  (ended)", "dim"))
        parts += toggles(view.wrap, view.show_time)
        self.query_one("#logs-state", Static).update(Content.assemble(*parts), layout=False)
