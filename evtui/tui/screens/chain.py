"""The causal chain as keys: `[` goes to what caused this, `]` to what this caused.

The chain is event → firing → run → the events the run emitted → the firings and runs those
caused. Each detail screen says what lies either side of it (`links`); going there posts the
same `OpenEvent`/`OpenRun`/`OpenFiring` request a pane would, so the app alone decides which
screen shows it. Several links (an event that fired two automations) open a picker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from evtui.tui.messages import OpenEvent, OpenFiring, OpenRequest, OpenRun
from evtui.tui.widgets.detail_cells import clock, short_id

if TYPE_CHECKING:
    from evtui.tui.source import TuiSource

Kind = Literal["event", "firing", "run"]
Direction = Literal["back", "forward"]
REQUESTS: dict[str, type[OpenRequest]] = {
    "event": OpenEvent,
    "firing": OpenFiring,
    "run": OpenRun,
}


def source_of(app: App[Any]) -> TuiSource:
    """The app's `source`: screens read and act only through it."""
    return app.source  # type: ignore[attr-defined, no-any-return]


@dataclass(frozen=True)
class Link:
    """Something one step along the chain, with the line a picker shows for it."""

    kind: Kind
    id: str
    label: str


def event_label(event: dict[str, Any] | None, event_id: str) -> str:
    """`event <name> · <time>`, or the id alone for an event no longer stored."""
    if event is None:
        return f"event {short_id(event_id)} (no longer stored)"
    return f"event {event['event']} · {clock(event.get('occurred'))}"


def run_label(run: dict[str, Any]) -> str:
    return f"run {run['flow']}/{run['name']} · {run['state']}"


def firing_label(firing: dict[str, Any]) -> str:
    name = firing.get("automation_name") or short_id(firing["automation_id"])
    return f"firing of {name} · {clock(firing.get('occurred'))}"


def node_link(node: dict[str, Any]) -> Link:
    """A lineage node (see `evtui.lineage`) as a link."""
    kind = node["kind"]
    if kind == "run":
        return Link("run", node["id"], run_label(node["run"]))
    if kind == "firing":
        return Link("firing", node["id"], firing_label(node["firing"]))
    return Link("event", node["id"], event_label(node.get("event"), node["id"]))


def open_link(app: App[Any], link: Link) -> None:
    """Ask the app to show the link's detail screen."""
    app.post_message(REQUESTS[link.kind](link.id))


class LinkPicker(ModalScreen[Link | None]):
    """Choose one of several links; `esc` chooses none."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="chain.close")]

    DEFAULT_CSS = """
    LinkPicker {
        align: center middle;
        OptionList { width: 80%; max-width: 100; height: auto; max-height: 80%;
                     border: round $accent; }
    }
    """

    def __init__(self, title: str, links: list[Link]) -> None:
        super().__init__()
        self.title_text = title
        self.links = links

    def compose(self) -> ComposeResult:
        options = OptionList(*(Option(link.label) for link in self.links))
        options.border_title = self.title_text
        yield options

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(self.links[message.option_index])


class ChainedScreen(Screen[None]):
    """A detail screen with a place on the chain: subclasses say what lies either side."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding(
            "left_square_bracket",
            "chain('back')",
            "Cause",
            id="chain.back",
            tooltip="Go to what caused this (event, firing or run)",
        ),
        Binding(
            "right_square_bracket",
            "chain('forward')",
            "Effect",
            id="chain.forward",
            tooltip="Go to what this caused (firing, run or emitted event)",
        ),
    ]

    DEFAULT_CSS = """
    ChainedScreen .detail-heading {
        width: 100%; height: 1; padding: 0 1; background: $boost; text-style: bold;
    }
    """

    kind: Kind = "event"
    """What the screen shows, for messages about it."""

    @property
    def source(self) -> TuiSource:
        return source_of(self.app)

    async def links(self, direction: Direction) -> list[Link]:
        """What caused this (`back`) or what it caused (`forward`), nearest first."""
        raise NotImplementedError

    @work(exclusive=True, group="chain", exit_on_error=False, name="causal chain")
    async def action_chain(self, direction: Direction) -> None:
        links = await self.links(direction)
        if not links:
            what = "Nothing recorded caused" if direction == "back" else "Nothing was caused by"
            self.notify(f"{what} this {self.kind}", timeout=3)
        elif len(links) == 1:
            open_link(self.app, links[0])
        else:
            title = "Caused by" if direction == "back" else "Caused"
            chosen = await self.app.push_screen_wait(LinkPicker(title, links))
            if chosen is not None:
                open_link(self.app, chosen)
