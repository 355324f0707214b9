"""One automation firing: what fired, on which events, in which bucket, and what each action did.

Everything comes from what the firing and its actions recorded (the rendered parameters of a
run-flow action are in its result), so the screen shows what happened, not a re-render.
"""

from __future__ import annotations

import json
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Footer, Label, Static

from evtui.tui.screens.chain import ChainedScreen, Direction, Link, event_label
from evtui.tui.source import SourceError
from evtui.tui.widgets.detail_cells import between, cell, clock, fill, short_id, stamp, state_cell
from evtui.tui.widgets.json_view import JsonView

EVENTS_SHOWN = 50
"""Triggering events read and listed at most (a count trigger can have thousands)."""


def action_outcome(action: dict[str, Any]) -> str:
    """What an action did, in a few words: the run it started, the status code, the reason."""
    result = action.get("result") or {}
    if "reason" in result:
        return str(result["reason"])
    if "flow_run_id" in result:
        return f"run {short_id(result['flow_run_id'])} of {result.get('flow', 'its flow')}"
    if "status_code" in result:
        return f"HTTP {result['status_code']}"
    if "emitted_event" in result:
        return f"emitted {result['emitted_event'].get('event', 'an event')}"
    if "enabled" in result:
        state = "enabled" if result["enabled"] else "paused"
        return f"{state} automation {short_id(result.get('automation_id'))}"
    return ""


def bucket_text(encoded: str | None) -> str:
    """The bucket key (stored as the JSON list of the `for_each` values) in words."""
    if not encoded:
        return "(composite trigger: no bucket)"
    values = json.loads(encoded)
    return ", ".join(map(str, values)) if values else "(one bucket: no for_each)"


def trigger_rows(firing: dict[str, Any]) -> list[tuple[object, ...]]:
    labels = firing.get("triggering_labels") or {}
    rows: list[tuple[object, ...]] = [
        ("automation", cell(f"{firing.get('automation_name', '')} ({firing['automation_id']})")),
        ("trigger", cell(firing["trigger_id"])),
        ("bucket key", cell(bucket_text(firing.get("bucket_key")))),
        ("count", cell(firing.get("count", ""))),
    ]
    rows += [(cell(f"label {name}"), cell(value)) for name, value in labels.items()]
    if firing.get("replay"):
        rows.append(("replay", "yes: fired by a replayed event"))
    return rows


def triggering_ids(firing: dict[str, Any]) -> list[str]:
    ids = firing.get("triggering_event_ids") or []
    if not ids and firing.get("triggering_event_id"):
        ids = [firing["triggering_event_id"]]
    return list(ids)


class FiringDetailScreen(ChainedScreen):
    """Pushed by `OpenFiring`; `[` goes to its triggering events, `]` to the runs it started."""

    kind = "firing"

    DEFAULT_CSS = """
    FiringDetailScreen {
        #firing-title { height: auto; background: $panel; padding: 0 1; }
        #firing-body { height: 1fr; }
        DataTable { height: auto; max-height: 14; }
        #firing-results { padding: 0 1; }
    }
    """

    def __init__(self, firing_id: str) -> None:
        super().__init__()
        self.firing_id = firing_id
        self.firing: dict[str, Any] | None = None
        """The firing as read, with its `actions`."""
        self.events: dict[str, dict[str, Any] | None] = {}
        """Triggering events by id (None: no longer stored), as JSON."""

    def compose(self) -> ComposeResult:
        yield Static(f"firing {self.firing_id} · loading…", id="firing-title")
        with VerticalScroll(id="firing-body"):
            yield Label("Trigger and bucket", classes="detail-heading")
            yield DataTable(id="firing-trigger", cursor_type="row", show_header=False)
            yield Label("Triggering events", id="firing-events-heading", classes="detail-heading")
            yield DataTable(id="firing-events", cursor_type="row", zebra_stripes=True)
            yield Label("Actions", classes="detail-heading")
            yield DataTable(id="firing-actions", cursor_type="row", zebra_stripes=True)
            yield Label("Action results (rendered parameters)", classes="detail-heading")
            yield JsonView(id="firing-results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#firing-actions").focus()
        self._load()

    @work(exclusive=True, exit_on_error=False, name="firing detail")
    async def _load(self) -> None:
        try:
            firing = await self.source.firing(self.firing_id)
        except SourceError as error:
            self.query_one("#firing-title", Static).update(f"firing {self.firing_id}: {error}")
            return
        for event_id in triggering_ids(firing)[:EVENTS_SHOWN]:
            stored = await self.source.get_event(event_id)
            self.events[event_id] = stored.event.model_dump(mode="json") if stored else None
        self.firing = firing
        self._show(firing)

    def _show(self, firing: dict[str, Any]) -> None:
        self.query_one("#firing-title", Static).update(
            Content.assemble(
                ("firing of ", "dim"),
                (firing.get("automation_name") or firing["automation_id"], "bold $accent"),
                ("  ·  ", "dim"),
                (firing["state"], "bold"),
                ("  ·  ", "dim"),
                stamp(firing["occurred"]),
                ("  ·  id ", "dim"),
                firing["id"],
            )
        )
        fill(self.query_one("#firing-trigger", DataTable), ("what", "value"), trigger_rows(firing))
        ids = triggering_ids(firing)
        self.query_one("#firing-events-heading", Label).update(f"Triggering events ({len(ids)})")
        fill(
            self.query_one("#firing-events", DataTable),
            ("occurred", "event", "resource", "id"),
            [self._event_row(event_id) for event_id in ids[:EVENTS_SHOWN]],
        )
        actions = firing.get("actions", [])
        fill(
            self.query_one("#firing-actions", DataTable),
            ("#", "type", "state", "started", "took", "result"),
            [
                (
                    action["action_index"],
                    action["action_type"],
                    state_cell(self.app, action["state"]),
                    clock(action["started"]),
                    between(action["started"], action.get("ended")),
                    cell(action_outcome(action)),
                )
                for action in actions
            ],
        )
        self.query_one(JsonView).show(
            [{"action": a["action_type"], **(a.get("result") or {})} for a in actions]
        )

    def _event_row(self, event_id: str) -> tuple[object, ...]:
        event = self.events.get(event_id)
        if event is None:
            return ("", "(no longer stored)", "", event_id)
        resource = event["resource"].get("prefect.resource.id", "")
        return (clock(event["occurred"]), cell(event["event"]), cell(resource), event_id)

    async def links(self, direction: Direction) -> list[Link]:
        """Back: the triggering events; forward: the runs and events its actions produced."""
        firing = self.firing or await self.source.firing(self.firing_id)
        if direction == "back":
            return [
                Link("event", event_id, event_label(self.events.get(event_id), event_id))
                for event_id in triggering_ids(firing)[:EVENTS_SHOWN]
            ]
        links = []
        for action in firing.get("actions", []):
            result = action.get("result") or {}
            if "flow_run_id" in result:
                flow = result.get("flow", "")
                links.append(
                    Link("run", result["flow_run_id"], f"run of {flow} · {action_outcome(action)}")
                )
            elif "emitted_event" in result:
                emitted = result["emitted_event"]
                links.append(Link("event", emitted["id"], event_label(emitted, emitted["id"])))
        return links
