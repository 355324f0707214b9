"""One event in full: its JSON, its resources, and what every automation made of it.

Opened from the stream the event is already in memory; opened by id (`OpenEvent`, the causal
chain) it is read in a worker. The explain answer (`source.explain`) is always read in a worker,
so the JSON shows at once and the automations follow.
"""

from __future__ import annotations

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Footer, Label, Static

from evtui.events import RESOURCE_ID, RESOURCE_ROLE, Event
from evtui.lineage import related_run_ids
from evtui.store.rows import StoredEvent
from evtui.tui.columns import one_line
from evtui.tui.screens.chain import ChainedScreen, Direction, Link
from evtui.tui.widgets.detail_cells import cell, clock, fill, short_id
from evtui.tui.widgets.explain import ExplainTable
from evtui.tui.widgets.json_view import JsonView

RUN_RESOURCE_PREFIX = "evtui.flow-run."


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


def other_labels(labels: dict[str, str]) -> str:
    """`key=value` pairs of a related resource, minus its id and role (shown in columns)."""
    return ", ".join(f"{k}={v}" for k, v in labels.items() if k not in (RESOURCE_ID, RESOURCE_ROLE))


def cause_links(event: Event) -> list[Link]:
    """What an event came from: the run that emitted it (or whose state it reports), and the
    firing an automation's own event is about."""
    links = []
    run_ids = related_run_ids(event)
    if event.resource_id.startswith(RUN_RESOURCE_PREFIX):
        run_ids.insert(0, event.resource_id.removeprefix(RUN_RESOURCE_PREFIX))
    for run_id in dict.fromkeys(run_ids):
        links.append(Link("run", run_id, f"run {short_id(run_id)}"))
    firing_id = event.payload.get("firing_id") if isinstance(event.payload, dict) else None
    if isinstance(firing_id, str):
        links.append(Link("firing", firing_id, f"firing {short_id(firing_id)}"))
    return links


class EventDetailScreen(ChainedScreen):
    """Pushed over the stream by `enter` (or by `OpenEvent`); `esc` returns."""

    kind = "event"

    BINDINGS = [
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

    def __init__(self, event: StoredEvent | str) -> None:
        """`event` is the stored event, or its id (then it is read when the screen opens)."""
        super().__init__()
        self.event_id = str(event.event.id) if isinstance(event, StoredEvent) else event
        self.stored = event if isinstance(event, StoredEvent) else None
        """The event, once known."""
        self.explained = False
        """True once the explain answer is shown."""

    @property
    def json(self) -> str:
        return self.stored.event.model_dump_json(indent=2) if self.stored else ""

    def compose(self) -> ComposeResult:
        yield Static(f"event {self.event_id} · loading…", id="detail-title")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-json"):
                yield JsonView()
            with Vertical(id="detail-resources"):
                yield Label("Resource", id="detail-resource", classes="detail-heading")
                yield DataTable(id="detail-labels", cursor_type="row", zebra_stripes=True)
                yield Label(
                    "Related resources", id="detail-related-heading", classes="detail-heading"
                )
                yield DataTable(id="detail-related", cursor_type="row", zebra_stripes=True)
        yield Label("Automations: explaining…", id="detail-explain", classes="detail-heading")
        yield ExplainTable()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-json").focus()
        if self.stored is not None:
            self._show(self.stored)
        self._load()

    @work(exclusive=True, group="event", exit_on_error=False, name="event detail")
    async def _load(self) -> None:
        if self.stored is None:
            stored = await self.source.get_event(self.event_id)
            if stored is None:
                self.query_one("#detail-title", Static).update(
                    f"event {self.event_id} is not stored (retention may have removed it)"
                )
                return
            self.stored = stored
            self._show(stored)
        answers = await self.source.explain(self.event_id)
        fired = sum(1 for answer in answers if answer.get("status") == "fired")
        heading = f"Automations ({len(answers)}, {fired} fired)  ·  why each did or did not fire"
        self.query_one("#detail-explain", Label).update(
            heading if answers else "Automations: none defined, so nothing could fire"
        )
        self.query_one(ExplainTable).show(answers)
        self.explained = True

    def _show(self, stored: StoredEvent) -> None:
        event = stored.event
        self.query_one("#detail-title", Static).update(event_title(stored))
        self.query_one(JsonView).show(self.json)
        self.query_one("#detail-resource", Label).update(
            Content.assemble("Resource  ", (one_line(event.resource_id), "$accent"))
        )
        fill(
            self.query_one("#detail-labels", DataTable),
            ("label", "value"),
            [(cell(key), cell(value)) for key, value in event.resource.items()],
        )
        self.query_one("#detail-related-heading", Label).update(
            f"Related resources ({len(event.related)})"
        )
        fill(
            self.query_one("#detail-related", DataTable),
            ("role", "id", "labels"),
            [
                (cell(r.get(RESOURCE_ROLE, "")), cell(r[RESOURCE_ID]), cell(other_labels(r)))
                for r in event.related
            ],
        )

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    async def links(self, direction: Direction) -> list[Link]:
        """Back: the run that emitted the event (or the firing it reports); forward: the
        firings it caused, by automation name."""
        if direction == "back":
            if self.stored is None:
                return []
            return cause_links(self.stored.event)
        answers = sorted(await self.source.explain(self.event_id), key=lambda a: a["name"])
        return [
            Link(
                "firing", firing["id"], f"firing of {answer['name']} · {clock(firing['occurred'])}"
            )
            for answer in answers
            for firing in answer.get("firings") or []
        ]

    def action_copy_json(self) -> None:
        self.app.copy_to_clipboard(self.json)
        self.notify("Event JSON copied to the clipboard", timeout=2)
