"""The event stream pane: column titles, the live list, the `/` filter and a state line.

The state line says whether the list follows new events or is paused (and how many arrived
since), and which filter is in effect.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Input, Static

from evtui.store.rows import StoredEvent
from evtui.tui.source import SourceError
from evtui.tui.widgets.event_list import EventList
from evtui.tui.widgets.pane import Pane
from evtui.tui.widgets.view_toggles import toggles

FILTER_HINT = 'file.*  word  "some text"  resource:GLOB  label=value; enter keeps it, esc clears'


def pane_state(event_list: EventList) -> Content:
    """`following` or `paused · +N new`, the filter and how many rows it leaves, then the
    `w`/`t` settings that differ from the default."""
    shown = len(event_list.buffer)
    buffered = len(event_list.buffer.events)
    parts: list[tuple[str, str] | str] = []
    if event_list.following:
        parts.append(("▼ following", "bold $success"))
    else:
        parts.append(("‖ paused", "bold $warning"))
        if event_list.new_count:
            parts += ["  ", (f" +{event_list.new_count:,} new ", "bold $background on $warning")]
        parts.append(("  end: follow", "dim"))
    if event_list.filter_text:
        parts += [("  │  filter ", "dim"), (event_list.filter_text, "bold $accent")]
        parts.append((f"  {shown:,} of {buffered:,} events", "dim"))
    else:
        parts.append((f"  │  {buffered:,} events", "dim"))
    parts += toggles(event_list.wrap, event_list.show_time)
    return Content.assemble(*parts)


class EventPane(Pane):
    """Everything about the live stream; the screen only feeds it batches."""

    number = 1
    title = "Events"

    BINDINGS = [
        Binding(
            "slash",
            "open_filter",
            "Filter",
            id="events.filter",
            tooltip="Event name glob, free text, resource:GLOB, label=value (syntax below)",
            priority=True,
        ),
        Binding("enter", "keep_filter", "Keep filter", id="events.keep-filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", id="events.clear-filter", priority=True),
        Binding("s", "toggle_follow", "Autoscroll", id="events.autoscroll"),
        Binding(
            "R",
            "replay",
            "Replay",
            id="events.replay",
            tooltip="Send a copy of the selected event through today's automations",
        ),
    ]
    """Priority bindings act before the keys typed after them reach the focused widget, so the
    focus moves (`/` to the input, `enter` and `esc` back to the list) before those keys are
    delivered: a fast typist's or a paste's keys land where they were meant to."""

    DEFAULT_CSS = """
    EventPane {
        #event-columns {
            height: 1;
            width: 1fr;
            background: $panel;
            color: $text-muted;
            text-style: bold;
        }
        #event-filter { display: none; height: 1; border: none; padding: 0 1; }
        #event-filter:focus { background: $boost; }
        #event-state { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    }
    """

    def __init__(self, capacity: int = 10_000, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.capacity = capacity

    def compose(self) -> ComposeResult:
        yield Static(id="event-columns")
        yield EventList(self.capacity, id="event-list", classes="pane-body")
        yield Input(placeholder=FILTER_HINT, id="event-filter")
        yield Static(id="event-state")

    @property
    def event_list(self) -> EventList:
        return self.query_one(EventList)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#event-filter", Input)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_state(self.event_list)

    def add(self, batch: Sequence[StoredEvent]) -> None:
        self.event_list.add(batch)

    @on(EventList.Changed)
    def _list_changed(self, message: EventList.Changed) -> None:
        self._show_state(message.event_list)

    def _show_state(self, event_list: EventList) -> None:
        self.query_one("#event-columns", Static).update(event_list.header_text(), layout=False)
        self.query_one("#event-state", Static).update(pane_state(event_list), layout=False)

    def action_open_filter(self) -> None:
        field = self.filter_input
        field.value = self.event_list.filter_text
        field.display = True
        self.screen.set_focus(field)  # now, not after the queued keys as `focus()` would

    @on(Input.Changed, "#event-filter")
    def _filter_typed(self, message: Input.Changed) -> None:
        self.event_list.set_filter(message.value)
        self.refresh_bindings()

    def action_keep_filter(self) -> None:
        self._close_filter()

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self.event_list.set_filter("")
        self._close_filter()

    def _close_filter(self) -> None:
        self.filter_input.display = False
        self.screen.set_focus(self.event_list)
        self.refresh_bindings()

    def action_toggle_follow(self) -> None:
        self.event_list.following = not self.event_list.following

    def action_replay(self) -> None:
        selected = self.event_list.selected
        if selected is not None:
            self._replay(str(selected.event.id))

    @work(group="event-actions", exit_on_error=False)
    async def _replay(self, event_id: str) -> None:
        try:
            copy = await self.app.source.replay(event_id)  # type: ignore[attr-defined]
        except SourceError as error:
            self.notify(str(error), title="Replay", severity="error")
            return
        self.notify(f"replayed {copy['event']} as {copy['id']}", title="Replay")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`esc` only while a filter is in effect or typed, `enter` only while typing, and `/`
        (which may be part of a filter) not then."""
        typing = self.screen.focused is self.filter_input
        if action == "clear_filter":
            return bool(self.event_list.filter_text) or typing
        if action == "keep_filter":
            return typing
        if action == "open_filter":
            return not typing
        return True
