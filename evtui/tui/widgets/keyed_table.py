"""A `DataTable` whose rows are replaced by key: the pane tables' one way to change.

Dolphie's pattern for tables that update several times a second: inside `app.batch_update()`,
rows that vanished are removed, changed cells are updated in place, and only when the order of
the keys changes (a new run on top) is the table refilled, keeping the cursor on the row it was
on. A refresh that changes nothing touches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

Cell = str | Text
Rows = dict[str, Sequence[Cell]]
"""Row key -> cells, in the order the rows are shown."""


class KeyedTable(DataTable[Cell]):
    """Rows keyed by the id of what they show (a run, a firing, an automation)."""

    DEFAULT_CSS = """
    KeyedTable { height: 1fr; scrollbar-size-horizontal: 0; }
    """

    def __init__(
        self, columns: Sequence[str], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row")
        self._columns = list(columns)
        self._shown: Rows = {}

    def on_mount(self) -> None:
        self.add_columns(*self._columns)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    def sync(self, rows: Rows) -> bool:
        """Show exactly `rows`; returns True when anything changed."""
        if rows == self._shown:
            return False
        with self.app.batch_update():
            if list(rows) == list(self._shown):
                self._update_cells(rows)
            else:
                self._refill(rows)
        self._shown = dict(rows)
        return True

    def _update_cells(self, rows: Rows) -> None:
        for key, cells in rows.items():
            old = self._shown[key]
            for column, (before, after) in enumerate(zip(old, cells, strict=True)):
                if before != after:
                    column_key = self.ordered_columns[column].key
                    self.update_cell(key, column_key, after, update_width=True)

    def _refill(self, rows: Rows) -> None:
        selected = self.selected_key
        self.clear()
        for key, cells in rows.items():
            self.add_row(*cells, key=key)
        if selected is not None and selected in rows:
            try:
                self.move_cursor(row=self.get_row_index(selected), animate=False)
            except RowDoesNotExist:
                return
