"""The main screen: Events, Automations, Firings, Runs and Logs panes over one source.

Wide terminals (at least `WIDE_COLUMNS` x `TALL_ROWS`) show every pane in a grid; smaller ones
collapse them into tabs, one pane at a time, without losing any pane's state (the panes stay
mounted, only hidden). `1`-`5` focus a pane, `tab` and `shift+tab` cycle.

The tables change only when evtui says something changed: a batch from the event stream with a
run, automation or action event (`evtui.flow-run.*`, `evtui.automation.*`, `evtui.action.*`)
asks for a refresh, which reads runs, firings and automations at most `REFRESH_INTERVAL` after
the previous one finished, never by polling. Other events may move a trigger's count, so while
they arrive the one-second tick reads the automations again; otherwise it only redraws time
left and durations from what was read. The tick also moves the events-per-second sparkline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.events import DescendantFocus, Resize
from textual.screen import Screen
from textual.widgets import Footer, Tab, Tabs

from evtui.store.rows import StoredEvent
from evtui.tui.screens.automation_editor import AutomationEditor
from evtui.tui.screens.emit_event import EmitEventScreen, EventForm
from evtui.tui.screens.run_flow import RunFlowScreen
from evtui.tui.screens.runs_timeline import RunsTimelineScreen
from evtui.tui.widgets.automations_pane import AutomationsPane
from evtui.tui.widgets.event_pane import EventPane
from evtui.tui.widgets.firings_pane import FiringsPane
from evtui.tui.widgets.logs_pane import LogsPane
from evtui.tui.widgets.pane import Pane
from evtui.tui.widgets.rate_sparkline import RateSparkline
from evtui.tui.widgets.runs_pane import RunsPane
from evtui.tui.widgets.status_bar import StatusBar

WIDE_COLUMNS = 120
TALL_ROWS = 30
"""Below either, the panes collapse into tabs."""
REFRESH_INTERVAL = 0.25
"""At most four table refreshes a second, however fast run and automation events come."""
TICK_SECONDS = 1.0
CHANGE_PREFIXES = ("evtui.flow-run.", "evtui.automation.", "evtui.action.")
"""Events that mean a run, an automation or a firing changed."""
ROWS_SHOWN = 200
"""Runs and firings read per refresh (the newest)."""
EVENT_NAMES_KEPT = 2_000
COUNTS_GRACE = 2.0
"""Seconds after the last event during which each tick re-reads the automations' counts."""


def changes_something(batch: Sequence[StoredEvent]) -> bool:
    return any(stored.event.event.startswith(CHANGE_PREFIXES) for stored in batch)


class MainScreen(Screen[None]):
    """The five panes, the status line and the keys that move between them."""

    BINDINGS = [
        Binding("1", "focus_pane(1)", "Events", id="main.events", show=False),
        Binding("2", "focus_pane(2)", "Automations", id="main.automations", show=False),
        Binding("3", "focus_pane(3)", "Firings", id="main.firings", show=False),
        Binding("4", "focus_pane(4)", "Runs", id="main.runs", show=False),
        Binding("5", "focus_pane(5)", "Logs", id="main.logs", show=False),
        Binding("tab", "cycle(1)", "Next pane", id="main.next-pane", show=False),
        Binding("shift+tab", "cycle(-1)", "Previous pane", id="main.previous-pane", show=False),
        Binding("x", "run_flow", "Run flow", id="main.run-flow"),
        Binding("n", "new_automation", "New automation", id="main.new-automation", show=False),
        Binding(
            "E",
            "emit_event",
            "Emit event",
            id="main.emit-event",
            tooltip="Send a test event (a copy of the selected one)",
            show=False,
        ),
        Binding(
            "T",
            "runs_timeline",
            "Runs timeline",
            id="main.runs-timeline",
            tooltip="The last hour's runs as bars over time",
            show=False,
        ),
    ]

    DEFAULT_CSS = """
    MainScreen {
        #pane-tabs { display: none; }
        #panes {
            layout: grid;
            grid-size: 5 3;
            grid-rows: 1fr 1fr 1fr;
            height: 1fr;
        }
        EventPane { column-span: 3; row-span: 2; }
        AutomationsPane, FiringsPane, LogsPane { column-span: 2; }
        RunsPane { column-span: 3; }
        #status-row { height: 1; }
        &.-narrow {
            #pane-tabs { display: block; }
            #panes { layout: vertical; }
            #panes > Pane { display: none; }
            #panes > Pane.-active { display: block; }
            RateSparkline { width: 14; }
        }
    }
    """

    def __init__(self, capacity: int = 10_000) -> None:
        super().__init__()
        self.capacity = capacity
        self.event_names: dict[str, str] = {}
        """Names of the firings' triggering events, by id (a firing stores only the id)."""
        self.runs: list[dict[str, Any]] = []
        self.automations: list[dict[str, Any]] = []
        self._refresh_due = False
        self._refresh_scheduled = False
        self._last_refresh = 0.0
        self.ready = asyncio.Event()
        """Set once every pane is mounted: the app feeds the panes only then."""
        self._counts_until = 0.0
        """Until then, events that may move a trigger's count are recent: each tick re-reads
        the automations (the evaluator counts them a moment after the TUI sees them)."""
        self.panes: list[Pane] = [
            EventPane(capacity),
            AutomationsPane(),
            FiringsPane(),
            RunsPane(),
            LogsPane(),
        ]
        """In number order."""

    def compose(self) -> ComposeResult:
        tabs = [Tab(f"{pane.number} {pane.title}", id=f"tab-{pane.number}") for pane in self.panes]
        yield Tabs(*tabs, id="pane-tabs")
        with Container(id="panes"):
            yield from self.panes
        with Horizontal(id="status-row"):
            yield StatusBar()
            yield RateSparkline()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pane-tabs", Tabs).can_focus = False
        self._layout_for(self.app.size.width, self.app.size.height)
        self.call_after_refresh(self._mounted)
        self.set_interval(TICK_SECONDS, self._tick, name="panes-tick")

    def _mounted(self) -> None:
        self.action_focus_pane(1)
        self.ready.set()

    # -- layout and focus -----------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < WIDE_COLUMNS or height < TALL_ROWS, "-narrow")

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    @property
    def active_pane(self) -> Pane:
        """The pane focus is in (or was in last)."""
        return next((p for p in self.panes if p.has_class("-active")), self.panes[0])

    def action_focus_pane(self, number: int) -> None:
        pane = self.panes[number - 1]
        self._activate(pane)
        pane.focus_target.focus()

    def action_cycle(self, step: int) -> None:
        panes = self.panes
        number = (panes.index(self.active_pane) + step) % len(panes) + 1
        self.action_focus_pane(number)

    def _activate(self, pane: Pane) -> None:
        for other in self.panes:
            other.set_class(other is pane, "-active")
        tabs = self.query_one("#pane-tabs", Tabs)
        if tabs.active != f"tab-{pane.number}":
            tabs.active = f"tab-{pane.number}"

    @on(DescendantFocus)
    def _focus_moved(self, event: DescendantFocus) -> None:
        pane = next((a for a in event.widget.ancestors if isinstance(a, Pane)), None)
        if pane is not None and not pane.has_class("-active"):
            self._activate(pane)

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab_chosen(self, message: Tabs.TabActivated) -> None:
        if message.tab is not None and message.tab.id is not None:
            number = int(message.tab.id.removeprefix("tab-"))
            if self.active_pane.number != number:
                self.action_focus_pane(number)

    # -- data -----------------------------------------------------------------------------

    def take(self, batch: Sequence[StoredEvent], live: bool = True) -> None:
        """A batch from the stream; `live` ones count in the sparkline (not the backlog)."""
        self.query_one(EventPane).add(batch)
        if live:
            self.query_one(RateSparkline).count(len(batch))
        if changes_something(batch):
            self.request_refresh()
        elif batch:
            self._counts_until = time.monotonic() + COUNTS_GRACE

    def request_refresh(self) -> None:
        """Read runs, firings and automations soon: at most every `REFRESH_INTERVAL`, and a
        new read only after the previous one finished (dolphie's re-arming)."""
        self._refresh_due = True
        if self._refresh_scheduled:
            return
        self._refresh_scheduled = True
        delay = self._last_refresh + REFRESH_INTERVAL - time.monotonic()
        if delay > 0:
            self.set_timer(delay, self._start_refresh, name="panes-refresh")
        else:
            self.call_later(self._start_refresh)

    def _start_refresh(self) -> None:
        self._refresh_due = False
        self._refresh()

    @work(exclusive=True, group="panes-refresh", exit_on_error=False)
    async def _refresh(self) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        try:
            automations, firings, runs = await asyncio.gather(
                source.automations(), source.firings(ROWS_SHOWN), source.runs(ROWS_SHOWN)
            )
            await self._learn_event_names(firings)
        finally:
            self._last_refresh = time.monotonic()
            self._refresh_scheduled = False
        self.automations, self.runs = automations, runs
        self.query_one(AutomationsPane).show(automations, now())
        runs_pane = self.query_one(RunsPane)
        runs_pane.automation_names = self.query_one(AutomationsPane).names
        runs_pane.show(runs, now())
        self.query_one(FiringsPane).show(firings, self.event_names)
        if self._refresh_due:
            self.request_refresh()

    async def _learn_event_names(self, firings: list[dict[str, Any]]) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        for firing in firings:
            event_id = firing.get("triggering_event_id")
            if event_id and event_id not in self.event_names:
                stored = await source.get_event(event_id)
                self.event_names[event_id] = stored.event.event if stored else "(deleted)"
        while len(self.event_names) > EVENT_NAMES_KEPT:
            del self.event_names[next(iter(self.event_names))]

    def _tick(self) -> None:
        self.query_one(RateSparkline).tick()
        moment = now()
        if time.monotonic() <= self._counts_until and not self._refresh_scheduled:
            self._refresh_automations()
        else:
            self.query_one(AutomationsPane).show(self.automations, moment)
        self.query_one(RunsPane).show(self.runs, moment)

    @work(exclusive=True, group="panes-counts", exit_on_error=False)
    async def _refresh_automations(self) -> None:
        """Only the automations (their counts), at most once a tick while events arrive."""
        self.automations = await self.app.source.automations()  # type: ignore[attr-defined]
        self.query_one(AutomationsPane).show(self.automations, now())

    @on(RunsPane.Highlighted)
    def _run_highlighted(self, message: RunsPane.Highlighted) -> None:
        run = next((r for r in self.runs if r["id"] == message.run_id), None)
        self.query_one(LogsPane).follow(run)

    # -- actions --------------------------------------------------------------------------

    def action_new_automation(self) -> None:
        self.app.push_screen(AutomationEditor())

    @work(exclusive=True, group="run-flow-form", exit_on_error=False)
    async def action_run_flow(self) -> None:
        flows = await self.app.source.flows()  # type: ignore[attr-defined]
        if not flows:
            self.notify("no flows found: add @flow files to a flows folder", severity="warning")
            return
        run = await self.app.push_screen_wait(RunFlowScreen(flows))
        if run is not None:
            self.notify(f"started {run['flow']} as {run['name']}", title="Run")

    def action_emit_event(self) -> None:
        """The emit form, filled from the selected event when the Events pane has one."""
        selected = self.query_one(EventPane).event_list.selected
        form = EventForm.copy_of(selected.event) if selected is not None else None
        self.app.push_screen(EmitEventScreen(form))

    def action_runs_timeline(self) -> None:
        self.app.push_screen(RunsTimelineScreen())


def now() -> datetime:
    return datetime.now(UTC)
