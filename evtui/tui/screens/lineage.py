"""`l` on a run: what caused it and what it caused, as one indented list.

`source.lineage(run_id)` answers with the causes oldest first and the consequences in
pre-order with their depth (see `evtui.lineage`), so drawing the tree is indenting each node by
its depth; `enter` opens the chosen node's own detail screen.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from evtui.tui.screens.chain import Link, node_link, open_link, run_label, source_of
from evtui.tui.source import SourceError

INDENT = "  "
KIND_STYLES = {"event": "", "firing": "italic", "run": "bold"}


def lineage_rows(lineage: dict[str, Any]) -> list[tuple[Link, Text]]:
    """Causes (marked ↑), the run itself (●), then consequences indented by depth (└)."""
    rows: list[tuple[Link, Text]] = []
    for node in lineage["upstream"]:
        link = node_link(node)
        rows.append((link, Text.assemble(("↑ ", "dim"), (link.label, KIND_STYLES[link.kind]))))
    run = lineage["run"]
    root = Link("run", run["id"], run_label(run))
    rows.append((root, Text.assemble(("● ", "bold"), (root.label, "bold reverse"))))
    for node in lineage["downstream"]:
        link = node_link(node)
        indent = INDENT * (node["depth"] - 1)
        rows.append(
            (link, Text.assemble(indent, ("└ ", "dim"), (link.label, KIND_STYLES[link.kind])))
        )
    return rows


class LineageScreen(Screen[None]):
    """The chain around one run; the run itself is selected when it opens."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="lineage.back")]

    DEFAULT_CSS = """
    LineageScreen {
        #lineage-title { height: auto; background: $panel; padding: 0 1; }
        #lineage-tree { height: 1fr; }
    }
    """

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.links: list[Link] = []
        """The links in the order shown (an option's index is its link's index)."""

    def compose(self) -> ComposeResult:
        yield Static(f"Lineage of run {self.run_id} · loading…", id="lineage-title")
        yield OptionList(id="lineage-tree")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(exclusive=True, exit_on_error=False, name="lineage")
    async def _load(self) -> None:
        try:
            lineage = await source_of(self.app).lineage(self.run_id)
        except SourceError as error:
            self.query_one("#lineage-title", Static).update(f"run {self.run_id}: {error}")
            return
        rows = lineage_rows(lineage)
        self.links = [link for link, _ in rows]
        tree = self.query_one(OptionList)
        tree.clear_options()
        tree.add_options(Option(text) for _, text in rows)
        tree.highlighted = len(lineage["upstream"])
        title = f"Lineage of {run_label(lineage['run'])}  ·  enter opens  ·  esc back"
        if lineage.get("truncated"):
            title += "  ·  (cut short: too deep or too large)"
        self.query_one("#lineage-title", Static).update(title)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        open_link(self.app, self.links[message.option_index])
