"""The editor's live preview: what the draft would have done over the recent stored events.

It shows a backtest answer (`TuiSource.backtest`): how many events matched, the newest of
them (`enter` opens one in the event detail), how many firings that made, and the actions of
the first firing with their parameters rendered from its event, each template error under its
action. While the draft has problems it says so instead of showing an answer that no longer
fits the form.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from evtui.tui.messages import OpenEvent
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


def matched_options(result: Json) -> list[Option]:
    """The newest matched events, one per line (time, name, resource id), by event id."""
    listed = result["matched"][-EVENTS_LISTED:]
    options = [
        Option(
            Text.assemble(
                (moment(event["occurred"]), "dim"),
                "  ",
                (event["event"], "bold"),
                "  ",
                event["resource_id"],
                no_wrap=True,
                overflow="ellipsis",
                end="",
            ),
            id=event["id"],
        )
        for event in reversed(listed)
    ]
    more = result["matched_count"] - len(listed)
    if more > 0:
        options.append(Option(Text(f"… and {more} older", style="dim"), disabled=True))
    return options


def firing_heading(firing: Json) -> str:
    key = firing.get("bucket_key")
    bucket = f", bucket {key}" if key and key != "[]" else ""
    return f"First firing {moment(firing['occurred'])} (count {firing['count']}{bucket}):"


class EditorPreview(VerticalScroll):
    """Shows a backtest answer, a wait, or why there is none; `enter` on a matched event opens
    it (the event detail, with explain); the panel scrolls when focused."""

    DEFAULT_CSS = """
    EditorPreview {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1;
        & > Static { height: auto; }
        #preview-summary { text-style: bold; }
        #preview-matched {
            height: auto; max-height: 10; margin-bottom: 1; padding: 0;
            border: none; background: transparent;
            &:focus { border: none; background-tint: $foreground 5%; }
            & > .option-list--option-highlighted { background: transparent; text-style: none; }
            &:focus > .option-list--option-highlighted {
                background: $block-cursor-background; text-style: bold;
            }
        }
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
        yield OptionList(id="preview-matched")
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
        self.query_one(OptionList).clear_options()
        self.query_one("#preview-firing", Static).update("")
        self.query_one(JsonView).show("")
        self.query_one(JsonView).display = False

    def show(self, result: Json, window: str) -> None:
        self.result = result
        self.query_one("#preview-summary", Static).update(Text(summary(result, window)))
        matched = self.query_one(OptionList)
        matched.clear_options()
        matched.add_options(matched_options(result))
        matched.highlighted = 0 if matched.option_count else None
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
        rendered = [{"type": a["type"], **a["parameters"]} for a in first["actions"]]
        actions.show(rendered[0] if len(rendered) == 1 else rendered)
        actions.display = True

    @on(OptionList.OptionSelected, "#preview-matched")
    def _open_event(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        if message.option_id is not None:
            self.app.post_message(OpenEvent(message.option_id))
