"""A run's log lines, coloured by level, with search: Textual's `Log` plus a highlighter.

`Log` renders only the visible lines (line API) and takes lines in batches, so a chatty run
costs one refresh per batch. The highlighter colours the level word (and the whole message of
an error) from the app's theme, and marks every occurrence of the search term.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import Log

from evtui.tui.widgets.detail_cells import clock

TIME_CELLS = 13
"""`HH:MM:SS.mmm` and a space: the level starts after it."""
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
"""Levels whose whole message is coloured, so failures stand out while scrolling."""


def log_line(record: dict[str, Any]) -> str:
    """One stored or live record as the line shown: time, level, message."""
    return f"{clock(record.get('ts'))} {record.get('level', ''):<{LEVEL_CELLS}} {record['message']}"


class LevelHighlighter(Highlighter):
    """Colours levels (by theme colour name) and marks the search term, case-insensitively."""

    def __init__(self, colours: dict[str, str]) -> None:
        self.colours = colours
        self.pattern: re.Pattern[str] | None = None

    def highlight(self, text: Text) -> None:
        plain = text.plain
        text.stylize("dim", 0, TIME_CELLS - 1)
        level = plain[TIME_CELLS : TIME_CELLS + LEVEL_CELLS].strip()
        colour = self.colours.get(level)
        if colour:
            end = len(plain) if level in SERIOUS else TIME_CELLS + len(level)
            text.stylize(f"bold {colour}", TIME_CELLS, end)
        if self.pattern is not None:
            for found in self.pattern.finditer(plain):
                text.stylize("reverse", found.start(), found.end())


class RunLog(Log):
    """The log lines of one run, bounded to `max_lines`, following the end unless scrolled."""

    def __init__(self, max_lines: int, *, id: str | None = None) -> None:
        super().__init__(highlight=True, max_lines=max_lines, id=id)
        self.term = ""
        """The search term (empty: no search)."""
        self.match_line: int | None = None
        """The line of the current match, once a search found one."""

    def on_mount(self) -> None:
        variables = self.app.theme_variables
        self.highlighter = LevelHighlighter(
            {level: variables.get(name, "") for level, name in LEVEL_COLOURS.items()}
        )

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records (a batch is one refresh)."""
        self.write_lines([log_line(record) for record in records])

    def matches(self) -> list[int]:
        """Lines that hold the search term."""
        if not self.term:
            return []
        needle = self.term.casefold()
        return [y for y, line in enumerate(self.lines) if needle in line.casefold()]

    def search(self, term: str) -> None:
        """Mark `term` everywhere and go to its first match from the top of the view."""
        self.term = term
        assert isinstance(self.highlighter, LevelHighlighter)
        self.highlighter.pattern = re.compile(re.escape(term), re.IGNORECASE) if term else None
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
