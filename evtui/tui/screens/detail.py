"""One event in full: its JSON, its primary resource's labels and its related resources.

Everything shown is already in memory (the stream pane holds the whole `ReceivedEvent`), so
opening an event does no I/O.
"""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from evtui.events import RESOURCE_ID, RESOURCE_ROLE
from evtui.store.rows import StoredEvent
from evtui.tui.columns import one_line


def event_title(stored: StoredEvent) -> Content:
    event = stored.event
    occurred = event.occurred.astimezone()
    return Content.assemble(
        (one_line(event.event), "bold $accent"),
        ("  ·  ", "dim"),
        occurred.strftime("%Y-%m-%d %H:%M:%S.%f %Z"),
        ("  ·  id ", "dim"),
        str(event.id),
        ("  ·  seq ", "dim"),
        str(stored.seq),
    )


def cell(value: str) -> Text:
    """Table cells hold senders' text, so never read it as markup."""
    return Text(one_line(value), end="")


def other_labels(labels: dict[str, str]) -> str:
    """`key=value` pairs of a related resource, minus its id and role (shown in columns)."""
    return ", ".join(f"{k}={v}" for k, v in labels.items() if k not in (RESOURCE_ID, RESOURCE_ROLE))


class EventDetailScreen(Screen[None]):
    """Pushed over the stream by `enter`; `esc` returns to it.

    The JSON is highlighted by Rich (Pygments), not `TextArea`: its tree-sitter JSON grammar
    corrupts memory with tree-sitter 0.26 (py-tree-sitter issue #472).
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding("y", "copy_json", "Copy JSON", id="detail.copy", tooltip="Copy the event's JSON"),
    ]

    NARROW = 120
    """Below this width the resources go under the JSON instead of beside it."""

    DEFAULT_CSS = """
    EventDetailScreen {
        #detail-title { height: auto; background: $panel; padding: 0 1; }
        #detail-body { height: 1fr; }
        #detail-json { width: 1fr; padding: 0 1; }
        #detail-resources { width: 1fr; }
        .detail-heading { height: 1; padding: 0 1; background: $boost; text-style: bold; }
        #detail-labels { height: auto; max-height: 50%; }
        #detail-related { height: 1fr; }
        &.-narrow {
            #detail-body { layout: vertical; }
            #detail-json { width: 1fr; height: 1fr; }
            #detail-resources { width: 1fr; height: auto; max-height: 50%; }
            #detail-related { height: auto; }
        }
    }
    """

    def __init__(self, stored: StoredEvent) -> None:
        super().__init__()
        self.stored = stored
        self.json = stored.event.model_dump_json(indent=2)

    def compose(self) -> ComposeResult:
        event = self.stored.event
        yield Static(event_title(self.stored), id="detail-title")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-json"):
                yield Static(Syntax(self.json, "json", theme="ansi_dark", word_wrap=True))
            with Vertical(id="detail-resources"):
                yield Label(
                    Content.assemble("Resource  ", (one_line(event.resource_id), "$accent")),
                    classes="detail-heading",
                )
                yield DataTable(id="detail-labels", cursor_type="row", zebra_stripes=True)
                yield Label(f"Related resources ({len(event.related)})", classes="detail-heading")
                yield DataTable(id="detail-related", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        event = self.stored.event
        labels = self.query_one("#detail-labels", DataTable)
        labels.add_columns("label", "value")
        labels.add_rows((cell(key), cell(value)) for key, value in event.resource.items())
        related = self.query_one("#detail-related", DataTable)
        related.add_columns("role", "id", "labels")
        related.add_rows(
            (cell(r.get(RESOURCE_ROLE, "")), cell(r[RESOURCE_ID]), cell(other_labels(r)))
            for r in event.related
        )
        self.query_one("#detail-json").focus()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    def action_copy_json(self) -> None:
        self.app.copy_to_clipboard(self.json)
        self.notify("Event JSON copied to the clipboard", timeout=2)
