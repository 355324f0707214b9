"""The editor's live preview: what the draft would have done over the recent stored events.

It shows a backtest answer (`TuiSource.backtest`): how many events matched, the newest of
them, how many firings that made, and the actions of the first firing with their parameters
rendered from its event, each template error under its action. While the draft has problems
it says so instead of showing an answer that no longer fits the form.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from evtui.tui.widgets.detail_cells import parse_time
from evtui.tui.widgets.json_view import JsonView

Json = dict[str, Any]

EVENTS_LISTED = 8
"""Matched events listed, the newest; the rest are counted."""


def moment(value: str | None) -> str:
    """A backtest time as the local time of day (the window is a day: the order tells)."""
    at = parse_time(value)
    return at.astimezone().strftime("%H:%M:%S") if at is not None else "?"


def summary(result: Json, window: str) -> str:
    matched, firings = result["matched_count"], len(result["firings"])
    if not matched:
        return f"No stored event of the last {window} matches the trigger."
    match = "1 event of the last {} matches" if matched == 1 else "{} events of the last {} match"
    fired = "once" if firings == 1 else f"{firings} times" if firings else "not at all"
    counted = match.format(window) if matched == 1 else match.format(matched, window)
    return f"{counted}; it would have fired {fired}"


def matched_lines(result: Json) -> Text:
    """The newest matched events, one per line: time, name, resource id."""
    listed = result["matched"][-EVENTS_LISTED:]
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for index, event in enumerate(reversed(listed)):
        if index:
            text.append("\n")
        text.append(moment(event["occurred"]), style="dim")
        text.append(f"  {event['event']}  ", style="bold")
        text.append(event["resource_id"])
    more = result["matched_count"] - len(listed)
    if more > 0:
        text.append(f"\n… and {more} older", style="dim")
    return text


def firing_heading(firing: Json) -> str:
    key = firing.get("bucket_key")
    bucket = f", bucket {key}" if key and key != "[]" else ""
    return f"First firing {moment(firing['occurred'])} (count {firing['count']}{bucket}):"


class EditorPreview(VerticalScroll):
    """Shows a backtest answer, a wait, or why there is none; `can_focus` to scroll it."""

    DEFAULT_CSS = """
    EditorPreview {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1;
        & > Static { height: auto; }
        #preview-summary { text-style: bold; }
        #preview-matched { margin-bottom: 1; text-wrap: nowrap; text-overflow: ellipsis; }
        .preview-errors { color: $error; }
        &:focus-within, &:focus { border: round $accent; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.result: Json | None = None
        """The backtest answer shown, if any."""

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="preview-summary")
        yield Static(id="preview-matched")
        yield Static(id="preview-firing")
        yield JsonView(id="preview-actions")

    def on_mount(self) -> None:
        self.border_title = "Preview"

    @property
    def _error_style(self) -> str:
        return self.app.theme_variables.get("error", "red")

    def waiting(self, reason: str) -> None:
        """No answer to show (yet): say why."""
        self.result = None
        self.query_one("#preview-summary", Static).update(Text(reason))
        for name in ("#preview-matched", "#preview-firing"):
            self.query_one(name, Static).update("")
        self.query_one(JsonView).show("")
        self.query_one(JsonView).display = False

    def show(self, result: Json, window: str) -> None:
        self.result = result
        self.query_one("#preview-summary", Static).update(Text(summary(result, window)))
        self.query_one("#preview-matched", Static).update(matched_lines(result))
        actions = self.query_one(JsonView)
        firings = result["firings"]
        if not firings:
            self.query_one("#preview-firing", Static).update("")
            actions.display = False
            return
        first = firings[0]
        heading = Text(firing_heading(first))
        for action in first["actions"]:
            for error in action.get("errors") or []:
                heading.append(f"\nactions.{action['index']}.{error}", style=self._error_style)
        self.query_one("#preview-firing", Static).update(heading)
        actions.show(
            [{"type": a["type"], **a["parameters"]} for a in first["actions"]]
            if len(first["actions"]) > 1
            else first["actions"][0]["parameters"]
            if first["actions"]
            else {}
        )
        actions.display = True
