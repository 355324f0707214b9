"""The Textual shell over a `TuiSource`: a local engine in the app's own event loop, or (later)
a remote `evtui serve`.

The app starts the source (for a local engine: receiver, store, bus) in a worker once mounted,
feeds the stream pane from its event subscription, polls `source.stats()` for the status bar,
and stops the source when it exits, which commits everything already acknowledged. Launch it with

    app = EvtuiApp(LocalSource(Engine(settings)))
    app.run()
    sys.exit(app.return_code or 0)

If the engine cannot start (a busy port, an unusable database file) the app exits with return
code 1 and prints why, instead of a traceback.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from evtui.engine import Engine
from evtui.server.receiver import ReceiverError
from evtui.tui.commands import SelectionCommands
from evtui.tui.keymap import apply_keymap
from evtui.tui.problems import ProblemWatch
from evtui.tui.screens.detail import EventDetailScreen
from evtui.tui.screens.help import HelpScreen, help_rows
from evtui.tui.screens.main import MainScreen
from evtui.tui.screens.routes import DetailRoutes
from evtui.tui.source import LocalSource, SourceError, TuiSource
from evtui.tui.themes import ThemeCommands, install_themes
from evtui.tui.widgets.event_list import EventList
from evtui.tui.widgets.status_bar import StatusBar

NOT_LISTENING = "not listening"
"""The `address` of a source without an HTTP receiver."""

STATUS_INTERVAL = 0.5
"""Seconds between status bar updates."""

START_ERRORS = (ReceiverError, OSError, sqlite3.Error, SourceError)
"""Failures at start the user can act on (port, file, permissions), shown as a message."""


def send_hint(api_url: str) -> tuple[str, ...]:
    """What an empty stream says: where events go, for curl and for Prefect clients."""
    return (
        f"No events yet. POST them to {api_url}/events",
        f"or point Prefect at evtui: PREFECT_API_URL={api_url}",
    )


class EvtuiApp(DetailRoutes, App[None]):
    """The panes over one source, which the app starts and stops; `OpenEvent`, `OpenRun` and
    `OpenFiring` requests from the panes open the detail screens (`DetailRoutes`)."""

    TITLE = "evtui"
    COMMANDS = App.COMMANDS | {ThemeCommands, SelectionCommands}

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("colon", "command_palette", "Commands", id="app.commands"),
    ]

    def __init__(
        self,
        source: TuiSource | Engine,
        *,
        capacity: int = 10_000,
        theme: str | None = None,
        keys: Mapping[str, str] | None = None,
    ) -> None:
        """`source` must not be started yet: the app owns its life cycle. A bare `Engine` is
        wrapped in a `LocalSource`.

        `capacity` bounds the events held by the stream pane (the oldest fall off). `theme`
        (else the last one chosen) and `keys` (binding id -> keys) come from the settings;
        themes are installed here, before the app's CSS is read, which uses their colours.
        """
        super().__init__()
        self.source: TuiSource = LocalSource(source) if isinstance(source, Engine) else source
        self.capacity = capacity
        self._problems = ProblemWatch()
        """Broken flow files, automation files and database sources, each announced once."""
        install_themes(self, theme)
        apply_keymap(self, keys or {})

    def get_default_screen(self) -> MainScreen:
        return MainScreen(self.capacity)

    @property
    def main(self) -> MainScreen:
        """The panes, wherever the user is (a detail screen may be on top)."""
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        self._run_source()

    @work(exclusive=True, group="source", exit_on_error=False, name="event stream")
    async def _run_source(self) -> None:
        """Start the source, show what is stored, then every committed batch as it comes.

        The subscription opens before the stored events are read, so none falls between;
        the pane drops what it already has (by `seq`). A reader that falls behind skips ahead
        (its drops are counted in the status bar): the pane shows the newest events, it is
        not an archive.
        """
        source = self.source
        try:
            await source.start()
        except START_ERRORS as error:
            self.exit(return_code=1, message=f"evtui could not start: {error}")
            return
        main = self.main
        await main.ready.wait()
        if source.stats().get("address") != NOT_LISTENING:
            main.query_one(EventList).empty_hint = send_hint(source.api_url)
        self._show_status()
        self.set_interval(STATUS_INTERVAL, self._show_status, name="status")
        main.request_refresh()
        batches = source.subscribe_events()
        first = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)  # let the subscription open
        main.take(await source.latest_events(self.capacity), live=False)
        main.take(await first)
        async for batch in batches:
            main.take(batch)

    def _show_status(self) -> None:
        stats = self.source.stats()
        for bar in self.main.query(StatusBar):  # none while the app is closing
            bar.show(stats)
        fresh, gone = self._problems.update(stats)
        for place, error in fresh.items():
            self.notify(error, title=place, severity="error", timeout=15)
        for place in gone:
            self.notify(f"{place} works again", title="Fixed", timeout=5)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure reaches the user here, not as a crash."""
        if event.state is WorkerState.ERROR:
            self.notify(
                f"{event.worker.name} stopped: {event.worker.error}",
                title="Error",
                severity="error",
                timeout=10,
            )

    async def on_unmount(self) -> None:
        """Stopping is safe whether or not the start completed (or was ever reached)."""
        await self.source.stop()

    @on(EventList.Opened)
    def _open_event(self, message: EventList.Opened) -> None:
        self.push_screen(EventDetailScreen(message.stored))

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_rows(self, self.screen.active_bindings)))
