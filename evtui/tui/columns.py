"""What one row of the event stream says, and how wide each column is.

Pure functions of an event and a width, so the line-API widget can cache the rendered strip
per event and tests can check the text without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from rich.cells import cell_len, set_cell_size

from evtui.events import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event

TIME_WIDTH = 14
"""Wide enough for `MM-DD HH:MM:SS` (older events) and `HH:MM:SS.mmm` (today's)."""
GAP = 1
HEADERS = ("TIME", "EVENT", "RESOURCE", "LABELS")
NAME_LABELS = (RESOURCE_NAME, "prefect.name")
"""Display-name labels, in Prefect's fallback order."""
OTHER_LABELS_SHOWN = 4
"""Labels past the name shown in the row; the detail screen has them all."""


@dataclass(frozen=True)
class Columns:
    """Cell widths of a row; the labels column takes what is left.

    Every column is followed by a gap, the last one too: a margin before the scrollbar.
    """

    time: int
    event: int
    resource: int
    labels: int

    @classmethod
    def for_width(cls, width: int) -> Columns:
        rest = max(0, width - TIME_WIDTH - 4 * GAP)
        event = _clamp(rest * 34 // 100, 10, 40)
        resource = _clamp(rest * 38 // 100, 10, 60)
        labels = max(0, rest - event - resource)
        return cls(TIME_WIDTH, event, resource, labels)

    @property
    def widths(self) -> tuple[int, int, int, int]:
        return (self.time, self.event, self.resource, self.labels)

    @property
    def total(self) -> int:
        """Cells in a row: every column with room, each followed by the gap."""
        return sum(width + GAP for width in self.widths if width > 0)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


ELIDE_MIDDLE = (False, True, True, False)
"""Event names and resource ids say the most at their ends (`...flow-run.Completed`,
`...report-12.csv`, `...<uuid>`), so they lose their middle, not their tail."""


def fit_cell(value: str, width: int, *, middle: bool = False) -> str:
    """Exactly `width` cells (wide characters count 2): padded, or shortened with an ellipsis
    at the end or, with `middle`, keeping a third of the room for the head and the rest for
    the tail."""
    length = cell_len(value)
    if length <= width:
        return value + " " * (width - length)
    if not middle or width < 5:
        return set_cell_size(value, width - 1) + "…"
    head = (width - 1) // 3
    return set_cell_size(value, head) + "…" + _last_cells(value, width - 1 - head)


def _last_cells(value: str, width: int) -> str:
    """The end of `value` in exactly `width` cells (padded on the left when a wide character
    does not fit)."""
    taken = 0
    start = len(value)
    while start > 0 and taken + cell_len(value[start - 1]) <= width:
        start -= 1
        taken += cell_len(value[start])
    return " " * (width - taken) + value[start:]


def fit_cells(cells: tuple[str, ...], columns: Columns) -> tuple[str, ...]:
    """Each cell fitted to its column and followed by the gap ("" for a column with no room)."""
    return tuple(
        fit_cell(cell, width, middle=middle) + " " * GAP if width > 0 else ""
        for cell, width, middle in zip(cells, columns.widths, ELIDE_MIDDLE, strict=True)
    )


def format_time(occurred: datetime, today: date) -> str:
    """Local time: to the millisecond for today's events, with the date for older ones."""
    local = occurred.astimezone()
    if local.date() == today:
        return local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    return local.strftime("%m-%d %H:%M:%S")


def display_name(labels: dict[str, str]) -> str | None:
    for key in NAME_LABELS:
        if labels.get(key):
            return labels[key]
    return None


def compact_labels(labels: dict[str, str]) -> str:
    """The name first, then a few `key=value` pairs keyed by their last dotted part."""
    parts = []
    name = display_name(labels)
    if name is not None:
        parts.append(name)
    others = [
        (key, value)
        for key, value in labels.items()
        if key not in (RESOURCE_ID, RESOURCE_ROLE, *NAME_LABELS)
    ]
    for key, value in others[:OTHER_LABELS_SHOWN]:
        parts.append(f"{key.rsplit('.', 1)[-1]}={value}")
    return "  ".join(parts)


_CONTROLS = {code: "\ufffd" for code in (*range(32), 127)} | {9: " ", 10: " ", 13: " "}


def one_line(value: str) -> str:
    """Control characters from a sender must not move the cursor or break the row."""
    return value.translate(_CONTROLS)


def row_cells(event: Event, today: date) -> tuple[str, str, str, str]:
    """The four cells of an event's row, unclipped and safe to print."""
    return (
        format_time(event.occurred, today),
        one_line(event.event),
        one_line(event.resource.get(RESOURCE_ID, "")),
        one_line(compact_labels(event.resource)),
    )
