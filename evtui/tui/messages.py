"""Requests to open something, posted by any pane and handled by the screens that show it.

A pane knows only the id of what the user chose; which screen opens it (event detail, run
detail, firing detail, the automation editor) is the app's decision, so panes and screens stay
independent of each other. Post them on the app: `self.app.post_message(OpenRun(run_id))`.
"""

from __future__ import annotations

from textual.message import Message


class OpenRequest(Message):
    """Open the thing with this id in its own screen."""

    def __init__(self, id: str) -> None:
        super().__init__()
        self.id = id
        """The event, run, firing or automation id."""


class OpenEvent(OpenRequest):
    """Show one stored event (its JSON, resources and explain)."""


class OpenRun(OpenRequest):
    """Show one flow run (states, task runs, logs, cause)."""


class OpenFiring(OpenRequest):
    """Show one automation firing (triggering events, bucket, actions)."""


class OpenAutomation(OpenRequest):
    """Show (or edit) one automation."""
