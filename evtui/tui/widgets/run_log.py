"""A run's log lines, coloured by level: Textual's `Log` plus a highlighter, built from records.

`Log` renders only the visible lines (line API) and takes lines in batches, so a chatty run
costs one refresh per batch. The lines are kept as records, not only as text, so the time
column (`t`) and wrapping (`w`) can change after the lines arrived: the view is rebuilt from the
records, at most `max_lines` of them. A wrapped or multi-line message (a traceback) continues
under the message column, so the level column stays readable and is never mistaken for one.

`RunLog` (run detail) adds search; the Logs pane's `FollowLog` adds follow mode.
"""

from __future__ import annotations

import re
import textwrap
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from rich.highlighter import Highlighter
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import Log

from evtui.tui.widgets.detail_cells import clock

LEVEL_CELLS = 8
LEVEL_COLOURS = {
    "DEBUG": "text-secondary",
    "INFO": "accent",
    "WARNING": "warning",
    "ERROR": "error",
    "CRITICAL": "error",
}
"""Theme variable per log level."""
SERIOUS = ("ERROR", "CRITICAL")
"""Levels whose whole first line is coloured, so failures stand out while scrolling."""
MIN_WRAP = 20
"""Narrower than this, wrapped lines would be mostly indent: they continue at the left edge."""

Clock = Callable[[str | None], str]
SAMPLE_TIME = "2024-05-01T12:00:00+00:00"
"""Any time: a clock writes every time in the same number of cells."""


def log_line(record: dict[str, Any], time: Clock | None = clock) -> str:
    """One stored or live record as the line shown: time (unless `time` is None), level,
    message. A message of several lines keeps its line breaks."""
    level = f"{record.get('level', ''):<{LEVEL_CELLS}}"
    prefix = f"{time(record.get('ts'))} {level}" if time is not None else level
    return f"{prefix} {record['message']}"


def screen_lines(line: str, indent: int, width: int | None) -> list[str]:
    """`line` as shown: each of its own lines after the first indented to `indent`, and, with a
    `width`, each wrapped at words to it (long words broken), continuing at the same indent."""
    first, *rest = line.splitlines() or [""]
    pad = " " * indent
    lines = [first, *(pad + more for more in rest)]
    if width is None or width < MIN_WRAP:
        return lines
    if indent > width // 2:
        pad = ""
    wrapped: list[str] = []
    for text in lines:
        wrapped += textwrap.wrap(
            text,
            width,
            subsequent_indent=pad,
            replace_whitespace=False,
            break_on_hyphens=False,
        ) or [""]
    return wrapped


class LevelHighlighter(Highlighter):
    """Colours levels (by theme colour name) and marks the search term, case-insensitively."""

    def __init__(self, colours: dict[str, str]) -> None:
        self.colours = colours
        self.pattern: re.Pattern[str] | None = None
        self.time_cells = 0
        """Where the level starts: after the time and its space (0 with no time shown)."""

    def highlight(self, text: Text) -> None:
        plain = text.plain
        start = self.time_cells
        if start:
            text.stylize("dim", 0, start - 1)
        level = plain[start : start + LEVEL_CELLS].strip()
        colour = self.colours.get(level)
        if colour:
            end = len(plain) if level in SERIOUS else start + len(level)
            text.stylize(f"bold {colour}", start, end)
        if self.pattern is not None:
            for found in self.pattern.finditer(plain):
                text.stylize("reverse", found.start(), found.end())


class RecordLog(Log):
    """Log records shown as coloured lines; `show_time` and `wrap` redraw them all."""

    BINDINGS = [
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap", tooltip="Wrap long lines"),
        Binding(
            "t", "toggle_time", "Times", id="logs.timestamps", tooltip="Show or hide the times"
        ),
    ]

    show_time: var[bool] = var(True, init=False)
    wrap: var[bool] = var(False, init=False)

    def __init__(
        self,
        max_lines: int,
        *,
        time: Clock = clock,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(highlight=True, max_lines=max_lines, id=id, classes=classes)
        self.records: deque[dict[str, Any]] = deque(maxlen=max_lines)
        """What is shown, as records (the newest `max_lines`)."""
        self.time = time
        """How a record's time is written (always as wide, which places the level column)."""
        self.time_cells = len(time(SAMPLE_TIME)) + 1
        self._wrap_width = 0

    def on_mount(self) -> None:
        variables = self.app.theme_variables
        self.highlighter = LevelHighlighter(
            {level: variables.get(name, "") for level, name in LEVEL_COLOURS.items()}
        )
        self._place_level()

    @property
    def level_highlighter(self) -> LevelHighlighter:
        assert isinstance(self.highlighter, LevelHighlighter)
        return self.highlighter

    def _place_level(self) -> None:
        self.level_highlighter.time_cells = self.time_cells if self.show_time else 0

    def lines_of(self, record: dict[str, Any]) -> list[str]:
        time = self.time if self.show_time else None
        indent = self.level_highlighter.time_cells + LEVEL_CELLS + 1
        return screen_lines(log_line(record, time), indent, self._wrap_width or None)

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records (a batch is one refresh)."""
        records = list(records)
        self.records.extend(records)
        self.write_lines([line for record in records for line in self.lines_of(record)])

    def redraw(self) -> None:
        """Every kept record again, as the time and wrap settings say now; a view scrolled
        away from the end stays at the same place in the log, proportionally."""
        place = self.scroll_y / self.max_scroll_y if self.max_scroll_y else 1.0
        self._wrap_width = self.scrollable_content_region.width if self.wrap else 0
        self._place_level()
        self.clear()
        self.write_lines([line for record in self.records for line in self.lines_of(record)])
        if not self.auto_scroll:
            self.scroll_to(y=round(place * self.max_scroll_y), animate=False, immediate=True)

    def reset(self) -> None:
        """No records at all (another run is shown)."""
        self.records.clear()
        self.clear()

    def watch_show_time(self) -> None:
        self.redraw()

    def watch_wrap(self) -> None:
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap and self.scrollable_content_region.width != self._wrap_width:
            self.redraw()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_toggle_time(self) -> None:
        self.show_time = not self.show_time


class RunLog(RecordLog):
    """The log lines of one run, following the end unless scrolled, with search."""

    def __init__(self, max_lines: int, *, id: str | None = None) -> None:
        super().__init__(max_lines, id=id)
        self.term = ""
        """The search term (empty: no search)."""
        self.match_line: int | None = None
        """The line of the current match, once a search found one."""

    def matches(self) -> list[int]:
        """Lines that hold the search term."""
        if not self.term:
            return []
        needle = self.term.casefold()
        return [y for y, line in enumerate(self.lines) if needle in line.casefold()]

    def search(self, term: str) -> None:
        """Mark `term` everywhere and go to its first match from the top of the view."""
        self.term = term
        self.level_highlighter.pattern = (
            re.compile(re.escape(term), re.IGNORECASE) if term else None
        )
        self._render_line_cache.clear()
        self.match_line = None
        self.refresh()
        self.auto_scroll = not term
        if term:
            self.find(1, start=int(self.scroll_y) - 1)

    def find(self, step: int, start: int | None = None) -> bool:
        """Go to the next (`step` 1) or previous (-1) match, wrapping; False if none."""
        found = self.matches()
        if not found:
            return False
        here = self.match_line if start is None and self.match_line is not None else start
        here = -1 if here is None else here
        if step > 0:
            self.match_line = next((y for y in found if y > here), found[0])
        else:
            self.match_line = next((y for y in reversed(found) if y < here), found[-1])
        self.auto_scroll = False
        self.scroll_to(y=max(0, self.match_line - self.size.height // 3), animate=False)
        return True

    def position(self) -> str:
        """ "n of N" for the current match, as the heading shows it."""
        found = self.matches()
        if not self.term:
            return ""
        if not found or self.match_line not in found:
            return f"/{self.term}: no match"
        return f"/{self.term}: {found.index(self.match_line) + 1} of {len(found)}"
