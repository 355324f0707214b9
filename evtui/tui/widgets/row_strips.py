"""How one event row becomes strips for the line-API list: one line, or several when wrapped.

One segment per cell, styled per column: much cheaper than building and rendering a `Text` per
row, which matters when thousands of rows a second go by.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from evtui.tui.columns import GAP, TIME_WIDTH, Columns, fit_cells
from evtui.tui.wrapped_rows import wrapped_lines


class RowStyles(NamedTuple):
    cells: tuple[Style, ...]
    fill: Style
    """For the rest of the line past the last cell."""


def columns_for(width: int, show_time: bool) -> Columns:
    """The columns of a row `width` cells wide; without the time, the others share its room."""
    if show_time:
        return Columns.for_width(width)
    return dataclasses.replace(Columns.for_width(width + TIME_WIDTH + GAP), time=0)


def line_strip(fitted: tuple[str, ...], columns: Columns, styles: Sequence[Style]) -> Strip:
    """One line of cells already fitted to their columns."""
    segments = [Segment(text, style) for text, style in zip(fitted, styles, strict=True) if text]
    return Strip(segments, columns.total)


def row_strips(
    cells: tuple[str, ...], columns: Columns, styles: Sequence[Style], *, wrap: bool
) -> list[Strip]:
    """The row's lines: one with long cells shortened, or every piece of every cell."""
    if not wrap:
        return [line_strip(fit_cells(cells, columns), columns, styles)]
    return [line_strip(fitted, columns, styles) for fitted in wrapped_lines(cells, columns)]
