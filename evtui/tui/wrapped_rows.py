"""Rows of the event stream that take several lines: `w` wraps each cell inside its column.

Unwrapped, a row is one line and long names and ids lose their middle; wrapped, every cell is
cut into pieces of its column's width, and the row is as tall as its tallest cell, so nothing is
hidden. `RowLines` maps between rows and lines for a list whose rows are added at the bottom
and fall off the top, as the stream's do. No Textual here: plain functions of text and widths.
"""

from __future__ import annotations

import bisect
import textwrap
from collections.abc import Iterable

from rich.cells import cell_len, chop_cells

from evtui.tui.columns import GAP, Columns, fit_cell


def pieces(cell: str, width: int) -> list[str]:
    """A cell cut to `width`: at spaces where it has them (labels read better whole), anywhere
    in a long word (ids and names have no spaces), by cells when it holds wide characters."""
    if width <= 0 or not cell:
        return [""]
    if " " in cell and cell_len(cell) == len(cell):
        return textwrap.wrap(cell, width, break_on_hyphens=False) or [""]
    return chop_cells(cell, width)


def wrapped_lines(cells: tuple[str, ...], columns: Columns) -> list[tuple[str, ...]]:
    """The row's lines, each a tuple of cells fitted to their columns and followed by the gap
    ("" for a column with no room), as `fit_cells` gives for one line."""
    cut = [pieces(cell, width) for cell, width in zip(cells, columns.widths, strict=True)]
    height = max(len(piece) for piece in cut)
    return [
        tuple(
            fit_cell(piece[line] if line < len(piece) else "", width) + " " * GAP
            if width > 0
            else ""
            for piece, width in zip(cut, columns.widths, strict=True)
        )
        for line in range(height)
    ]


def row_height(cells: tuple[str, ...], columns: Columns) -> int:
    """Lines the row takes when wrapped (at least one)."""
    return max(len(pieces(cell, width)) for cell, width in zip(cells, columns.widths, strict=True))


class RowLines:
    """Where each row starts, in lines, for rows of several lines; rows are numbered from the
    top of the list as it is now (dropping rows renumbers them, as the buffer does)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._base = 0
        """Lines dropped from the top since the last rebuild (starts are not rewritten)."""
        self._end = 0

    @property
    def total(self) -> int:
        return self._end - self._base

    def __len__(self) -> int:
        return len(self._starts)

    def rebuild(self, heights: Iterable[int]) -> None:
        self._starts, self._base, self._end = [], 0, 0
        self.append(heights)

    def append(self, heights: Iterable[int]) -> None:
        """Rows added at the bottom, by height."""
        for height in heights:
            self._starts.append(self._end)
            self._end += height

    def drop(self, rows: int) -> int:
        """The first `rows` rows fell off the top; returns how many lines went with them."""
        if rows <= 0:
            return 0
        before = self._base
        self._base = self._starts[rows] if rows < len(self._starts) else self._end
        del self._starts[:rows]
        return self._base - before

    def span(self, row: int) -> tuple[int, int]:
        """The lines of `row`: first, and one past the last."""
        start = self._starts[row] - self._base
        end = self._starts[row + 1] - self._base if row + 1 < len(self._starts) else self.total
        return start, end

    def row_at(self, line: int) -> tuple[int, int]:
        """The row that `line` belongs to, and which of its lines it is."""
        row = bisect.bisect_right(self._starts, line + self._base) - 1
        return row, line + self._base - self._starts[row]
