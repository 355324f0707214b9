"""The live event stream: a line-API view over the bounded event buffer.

Events can arrive thousands of times a second, so nothing here is per event except appending
to a queue. Arrivals are folded into the buffer at most `REFRESH_INTERVAL` apart, and only the
visible lines are drawn, each from a cache of rendered strips keyed by the event's `seq`.

Follow mode keeps the newest event at the bottom. Any move up (keys, wheel, scrollbar) pauses
it; the view then stays still, counting what arrives in `new_count`, until `end` or `G`.

`w` wraps: each cell is cut to its column's width and a row takes as many lines as its tallest
cell (`evtui.tui.wrapped_rows`), so the view is addressed in lines, mapped to rows by
`RowLines`. `t` hides the time column and gives its room to the others.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from datetime import date

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive, var
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollTo, ScrollUp
from textual.strip import Strip

from evtui.store.rows import StoredEvent
from evtui.tui.columns import HEADERS, Columns, fit_cell, fit_cells, row_cells
from evtui.tui.event_buffer import Change, EventBuffer
from evtui.tui.matching import parse_filter
from evtui.tui.widgets.row_strips import RowStyles, columns_for, row_strips
from evtui.tui.wrapped_rows import RowLines, row_height

REFRESH_INTERVAL = 0.05
"""At most ~20 redraws a second, however fast events arrive."""

CELL_STYLES = ("event-list--time", "event-list--name", "event-list--resource", "event-list--labels")


class EventList(ScrollView, can_focus=True, inherit_bindings=False):
    """Newest events at the bottom, a cursor row, and a filter over the buffer."""

    BINDINGS = [
        Binding("k,up", "cursor_up", "Up", id="events.cursor-up", show=False),
        Binding("j,down", "cursor_down", "Down", id="events.cursor-down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", id="events.page-up", show=False),
        Binding("pagedown,ctrl+f", "page_down", "Page down", id="events.page-down", show=False),
        Binding("g,home", "first", "Oldest", id="events.first", show=False),
        Binding(
            "end,G",
            "follow",
            "Follow",
            id="events.follow",
            tooltip="Jump to the newest event and keep following new ones",
        ),
        Binding(
            "enter", "open", "Detail", id="events.open", tooltip="Show the selected event in full"
        ),
        Binding("w", "toggle_wrap", "Wrap", id="events.wrap", tooltip="Wrap long cells"),
        Binding(
            "t", "toggle_time", "Times", id="events.timestamps", tooltip="Show or hide the times"
        ),
    ]

    COMPONENT_CLASSES = {"event-list--cursor", "event-list--hint", *CELL_STYLES}

    DEFAULT_CSS = """
    EventList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        & > .event-list--cursor { background: $surface-lighten-2; }
        &:focus > .event-list--cursor { background: $primary 60%; text-style: bold; }
        & > .event-list--time { color: $text-muted; }
        & > .event-list--name { color: $accent; }
        & > .event-list--resource { color: $text; }
        & > .event-list--labels { color: $text-muted; }
        & > .event-list--hint { color: $text-muted; text-style: italic; }
    }
    """

    following: var[bool] = var(True)
    """Keep the newest event in view; off once the user moves up."""
    wrap: var[bool] = var(False, init=False)
    """Rows show their cells whole, over several lines."""
    show_time: var[bool] = var(True, init=False)
    empty_hint: reactive[tuple[str, ...]] = reactive(("No events yet.",))
    """Shown while there is no event at all: how to send some."""

    class Changed(Message):
        """The rows, the follow state or the filter changed (coalesced: only the last counts)."""

        def __init__(self, event_list: EventList) -> None:
            super().__init__()
            self.event_list = event_list

        @property
        def control(self) -> EventList:
            return self.event_list

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, EventList.Changed)

    class Opened(Message):
        """The user asked to see this event in full."""

        def __init__(self, stored: StoredEvent) -> None:
            super().__init__()
            self.stored = stored

    def __init__(
        self,
        capacity: int = 10_000,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.buffer = EventBuffer(capacity)
        self.cursor: int | None = None
        """Index of the selected row."""
        self.new_count = 0
        """Rows that arrived since following was paused."""
        self.columns = Columns.for_width(80)
        self.filter_text = ""
        """The filter in effect, as typed (blank: every event)."""
        self._pending: deque[StoredEvent] = deque(maxlen=capacity)
        self._flush_scheduled = False
        self._last_flush = 0.0
        self._strips: LRUCache[tuple[int, bool], list[Strip]] = LRUCache(1024)
        """The lines of a row (one unless wrapped), by `seq` and whether the cursor is on it."""
        self._lines = RowLines()
        """Where each row starts, while wrapped."""
        self._styles: dict[bool, RowStyles] = {}
        """For plain rows (False) and the cursor row (True)."""
        self._today = date.today()

    # -- feeding --------------------------------------------------------------------------

    def add(self, batch: Sequence[StoredEvent]) -> None:
        """Queue events for the next redraw; cheap enough to call for every batch."""
        if not batch:
            return
        self._pending.extend(batch)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            delay = self._last_flush + REFRESH_INTERVAL - time.monotonic()
            if delay > 0:
                self.set_timer(delay, self._flush, name="event-list-flush")
            else:
                self.call_later(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        self._last_flush = time.monotonic()
        batch = list(self._pending)
        self._pending.clear()
        change = self.buffer.extend(batch)
        if change.added or change.dropped:
            self._apply(change)

    def _apply(self, change: Change) -> None:
        dropped_lines = change.dropped
        if self.wrap:
            dropped_lines = self._lines.drop(change.dropped)
            rows = self.buffer.rows
            self._lines.append(
                self._height(rows[i]) for i in range(len(rows) - change.added, len(rows))
            )
        if self.following:
            self._stick_to_end()
        else:
            self.new_count += change.added
            self._update_virtual_size()
            if change.dropped:
                if self.cursor is not None:
                    self.cursor = max(0, self.cursor - change.dropped)
                top = max(0, self.scroll_offset.y - dropped_lines)
                self.scroll_to(y=top, animate=False, force=True)
        self.refresh()
        self.post_message(self.Changed(self))

    def set_filter(self, text: str) -> None:
        """Show only events matching `text` (see `evtui.tui.matching`); blank shows all."""
        matcher = parse_filter(text)
        filter_text = matcher.text if matcher else ""
        if filter_text == self.filter_text:
            return
        anchor = self.selected
        self.filter_text = filter_text
        self.buffer.set_matcher(matcher)
        self._measure()
        self.new_count = 0
        if self.following:
            self._stick_to_end()
        else:
            self._update_virtual_size()
            if not len(self.buffer):
                self.cursor = None
            else:
                self.cursor = self.buffer.index_of_seq(anchor.seq) if anchor else 0
                self._reveal_cursor()
        self.refresh()
        self.post_message(self.Changed(self))

    @property
    def selected(self) -> StoredEvent | None:
        if self.cursor is None or self.cursor >= len(self.buffer):
            return None
        return self.buffer.rows[self.cursor]

    # -- follow mode and the cursor -----------------------------------------------------

    def watch_following(self, following: bool) -> None:
        self.new_count = 0
        if following:
            self._stick_to_end()
            self.refresh()
        self.post_message(self.Changed(self))

    def _stick_to_end(self) -> None:
        self.cursor = len(self.buffer) - 1 if len(self.buffer) else None
        self._update_virtual_size()
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._line_count())

    # -- rows and lines (one each unless wrapped) -------------------------------------------

    def _line_count(self) -> int:
        return self._lines.total if self.wrap else len(self.buffer)

    def _span(self, row: int) -> tuple[int, int]:
        return self._lines.span(row) if self.wrap else (row, row + 1)

    def _row_at(self, line: int) -> tuple[int, int]:
        """The row shown on `line` of the list, and which of its lines that is."""
        return self._lines.row_at(line) if self.wrap else (line, 0)

    def _height(self, stored: StoredEvent) -> int:
        return row_height(row_cells(stored.event, self._today), self.columns)

    def _measure(self) -> None:
        """Every row's height again (the columns, the rows or the wrap setting changed)."""
        if self.wrap:
            self._lines.rebuild(self._height(stored) for stored in self.buffer.rows)

    def _relayout(self) -> None:
        """Columns, row heights and scroll position for the current width and toggles."""
        self.columns = columns_for(self.scrollable_content_region.width, self.show_time)
        self._strips.clear()
        self._measure()
        if self.following:
            self._stick_to_end()
        else:
            self._update_virtual_size()
            self._reveal_cursor()
        self.refresh()
        self.post_message(self.Changed(self))

    def watch_wrap(self) -> None:
        self._relayout()

    def watch_show_time(self) -> None:
        self._relayout()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_toggle_time(self) -> None:
        self.show_time = not self.show_time

    def _move_cursor(self, delta: int) -> None:
        if not len(self.buffer):
            return
        if delta < 0:
            self.following = False
        current = len(self.buffer) - 1 if self.cursor is None else self.cursor
        self.cursor = max(0, min(len(self.buffer) - 1, current + delta))
        self._reveal_cursor()
        self.refresh()

    def _reveal_cursor(self) -> None:
        if self.cursor is None:
            return
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        first, end = self._span(self.cursor)
        if first < top:
            self.scroll_to(y=first, animate=False, force=True)
        elif end > top + height:
            self.scroll_to(y=max(first, end - height), animate=False, force=True)

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(-1)

    def action_cursor_down(self) -> None:
        self._move_cursor(+1)

    def action_page_up(self) -> None:
        self._move_cursor(-self._page)

    def action_page_down(self) -> None:
        self._move_cursor(+self._page)

    def action_first(self) -> None:
        self._move_cursor(-len(self.buffer))

    def action_follow(self) -> None:
        self.following = True

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self.selected))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False

    @on(ScrollUp)
    @on(ScrollTo)
    def _scrollbar_moved(self, message: ScrollUp | ScrollTo) -> None:
        if isinstance(message, ScrollUp) or message.y is not None:
            self.following = False

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = self.scroll_offset.y + offset.y
        if line >= self._line_count():
            return
        row, _ = self._row_at(line)
        if row == self.cursor:
            self.action_open()
            return
        self.following = False
        self.cursor = row
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        columns = columns_for(self.scrollable_content_region.width, self.show_time)
        if columns != self.columns:
            self._relayout()
            return
        if self.following:
            self._stick_to_end()
        else:
            self._update_virtual_size()
            self._reveal_cursor()

    # -- drawing ----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()

    def header_text(self) -> Text:
        """Column titles laid out like the rows below them."""
        return Text("".join(fit_cells(HEADERS, self.columns)), no_wrap=True, end="")

    def _row_styles(self, is_cursor: bool) -> RowStyles:
        """Cell styles over the widget's own, plus the cursor's background on its row."""
        styles = self._styles.get(is_cursor)
        if styles is None:
            base = self.rich_style
            cursor = self.get_component_rich_style("event-list--cursor")
            over = Style(bgcolor=cursor.bgcolor, bold=cursor.bold) if is_cursor else Style()
            cells = tuple(base + self.get_component_rich_style(n) + over for n in CELL_STYLES)
            styles = self._styles[is_cursor] = RowStyles(cells, base + over)
        return styles

    def _placeholder_line(self, y: int, width: int) -> Strip:
        """Past the last row: blank, or the hint when nothing is shown at all."""
        fill = self._row_styles(False).fill
        if len(self.buffer):
            return Strip.blank(width, fill)
        if self.filter_text:
            hint: tuple[str, ...] = (f"No event here matches {self.filter_text}; esc clears it.",)
        else:
            hint = self.empty_hint
        if not 1 <= y <= len(hint):
            return Strip.blank(width, fill)
        style = fill + self.get_component_rich_style("event-list--hint")
        return Strip([Segment(fit_cell("  " + hint[y - 1], width), style)], width)

    def render_lines(self, crop: Region) -> list[Strip]:
        today = date.today()
        if today != self._today:
            self._today = today
            self._strips.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        line = scroll_y + y
        if line >= self._line_count():
            return self._placeholder_line(y, width)
        index, part = self._row_at(line)
        stored = self.buffer.rows[index]
        is_cursor = index == self.cursor
        key = (stored.seq, is_cursor)
        strips = self._strips.get(key)
        styles = self._row_styles(is_cursor)
        if strips is None:
            strips = self._strips[key] = self._row_strips(stored, styles)
        strip = strips[part] if part < len(strips) else Strip.blank(width, styles.fill)
        return strip.crop_extend(scroll_x, scroll_x + width, styles.fill)

    def _row_strips(self, stored: StoredEvent, styles: RowStyles) -> list[Strip]:
        cells = row_cells(stored.event, self._today)
        return row_strips(cells, self.columns, styles.cells, wrap=self.wrap)
