"""`?`: the keys that work where the user is, generated from the live bindings.

Built from the screen's active bindings when opened, so it never drifts from what the keys do,
and it shows each binding's id (the name a user keymap refers to).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from evtui.tui.matching import FILTER_SYNTAX


@dataclass(frozen=True)
class HelpRow:
    keys: str
    description: str
    tooltip: str
    id: str


def help_rows(app: App[object], active: Mapping[str, ActiveBinding]) -> list[HelpRow]:
    """One row per binding id, with every key bound to it, in binding order."""
    grouped: dict[str, tuple[list[str], Binding]] = {}
    for active_binding in active.values():
        binding = active_binding.binding
        if binding.system:
            continue
        ident = binding.id or binding.action
        keys, _ = grouped.setdefault(ident, ([], binding))
        display = app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    return [
        HelpRow(" ".join(keys), binding.description or binding.action, binding.tooltip, ident)
        for ident, (keys, binding) in grouped.items()
    ]


def help_table(rows: list[HelpRow]) -> Table:
    table = Table(box=None, expand=True, show_edge=False, header_style="bold")
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("does")
    table.add_column("id", style="dim", no_wrap=True)
    for row in rows:
        does = Text(row.description)
        if row.tooltip:
            does.append(f"  {row.tooltip}", "dim")
        table.add_row(Text(row.keys), does, Text(row.id))
    return table


class HelpScreen(ModalScreen[None]):
    """A dismissible overlay listing keys, then the filter syntax."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help {
            width: 90%;
            max-width: 110;
            height: auto;
            max-height: 90%;
            border: round $accent;
            border-title-color: $accent;
            background: $surface;
            padding: 0 1;
        }
        #help-filter { margin-top: 1; color: $text-muted; }
    }
    """

    def __init__(self, rows: list[HelpRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc to close"
            yield Static(help_table(self.rows), id="help-keys")
            yield Static(Text("Filter (/)\n" + FILTER_SYNTAX), id="help-filter")
