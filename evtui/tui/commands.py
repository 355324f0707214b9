"""Context-aware commands for the `:` palette: what can be done with what is selected now.

k9s-style, the palette offers "run: cancel NAME", "run: rerun NAME", "automation: disable
NAME", "event: replay NAME" and so on for the row selected in each pane, plus "flow: run…".
Each command is the pane's own key action (`c`, `r`, `space`, `e`, `y`, `d`, `R`, `x`, `n`), so
the palette and the keys can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from evtui.tui.messages import OpenEvent, OpenRun
from evtui.tui.widgets.automations_pane import AutomationsPane
from evtui.tui.widgets.event_pane import EventPane
from evtui.tui.widgets.runs_pane import RunsPane

if TYPE_CHECKING:
    from evtui.tui.screens.main import MainScreen

Command = tuple[str, Callable[[], object], str]
"""Title, what it does, and a line of help."""


def selection_commands(main: MainScreen) -> list[Command]:
    """The commands for each pane's selected row (none for a pane with nothing selected)."""
    commands: list[Command] = [
        ("flow: run…", main.action_run_flow, "start a run of a flow"),
        ("event: emit…", main.action_emit_event, "send a test event (a copy of the selected one)"),
        ("automation: new…", main.action_new_automation, "the trigger editor, live preview"),
        ("runs: timeline", main.action_runs_timeline, "the last hour's runs as bars over time"),
    ]
    runs = main.query_one(RunsPane)
    run = next((r for r in runs.runs if r["id"] == runs.table.selected_key), None)
    if run is not None:
        name = f"{run['flow']}/{run['name']}"
        commands += [
            (f"run: cancel {name}", runs.action_cancel, f"stop it ({run['state']} now)"),
            (f"run: rerun {name}", runs.action_rerun, "the same flow and parameters again"),
            (f"run: open {name}", partial(main.app.post_message, OpenRun(run["id"])), ""),
        ]
    automations = main.query_one(AutomationsPane)
    automation = next(
        (a for a in automations.automations if a["id"] == automations.table.selected_key), None
    )
    if automation is not None:
        toggle = "disable" if automation["enabled"] else "enable"
        name = automation["name"]
        commands += [
            (f"automation: {toggle} {name}", automations.action_toggle, ""),
            (f"automation: edit {name}", automations.action_edit, "in the trigger editor"),
            (f"automation: duplicate {name}", automations.action_duplicate, "an unsaved copy"),
            (f"automation: delete {name}", automations.action_delete, "asks first"),
        ]
    events = main.query_one(EventPane)
    selected = events.event_list.selected
    if selected is not None:
        event = selected.event
        label = f"{event.event} on {event.resource_id}"
        commands += [
            (f"event: replay {label}", events.action_replay, "through today's automations"),
            (f"event: open {label}", partial(main.app.post_message, OpenEvent(str(event.id))), ""),
        ]
    return commands


class SelectionCommands(Provider):
    """The palette's view of `selection_commands` for the main screen."""

    def _commands(self) -> list[Command]:
        main = self.app.screen_stack[0]
        return selection_commands(main)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for title, run, help in self._commands():
            yield DiscoveryHit(title, run, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run, help in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help)
