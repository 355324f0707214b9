"""Which screen shows what a pane (or the causal chain) asks to open.

The app mixes `DetailRoutes` in (`class EvtuiApp(DetailRoutes, App[None])`): its handlers
answer the `OpenEvent`, `OpenRun` and `OpenFiring` requests of `evtui.tui.messages` by pushing
the detail screen. `detail_screen` is the same decision as a function, for callers that are not
the app.
"""

from __future__ import annotations

from typing import Any, cast

from textual.app import App
from textual.screen import Screen

from evtui.tui.messages import OpenAutomation, OpenEvent, OpenFiring, OpenRequest, OpenRun
from evtui.tui.screens.automation_editor import AutomationEditor
from evtui.tui.screens.detail import EventDetailScreen
from evtui.tui.screens.firing_detail import FiringDetailScreen
from evtui.tui.screens.run_detail import RunDetailScreen


def detail_screen(request: OpenRequest) -> Screen[None]:
    """The screen for an open request (raises `TypeError` for an `OpenAutomation`)."""
    if isinstance(request, OpenEvent):
        return EventDetailScreen(request.id)
    if isinstance(request, OpenRun):
        return RunDetailScreen(request.id)
    if isinstance(request, OpenFiring):
        return FiringDetailScreen(request.id)
    raise TypeError(f"no detail screen for {type(request).__name__}")


class DetailRoutes:
    """App mixin: push the detail screen for each event, run and firing request, and the
    trigger editor for an automation."""

    def _push_detail(self, request: OpenRequest) -> None:
        cast("App[Any]", self).push_screen(detail_screen(request))

    def on_open_event(self, message: OpenEvent) -> None:
        self._push_detail(message)

    def on_open_run(self, message: OpenRun) -> None:
        self._push_detail(message)

    def on_open_firing(self, message: OpenFiring) -> None:
        self._push_detail(message)

    def on_open_automation(self, message: OpenAutomation) -> None:
        """An automation opens in the trigger editor."""
        cast("App[Any]", self).push_screen(AutomationEditor(message.id))
