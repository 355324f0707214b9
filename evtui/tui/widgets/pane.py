"""The frame every pane of the main screen shares: a numbered title and a focus target.

The number in the title is the key that focuses the pane (k9s and lazygit habit); the frame
lights up while focus is inside, so the user always knows which pane the keys act on.
"""

from __future__ import annotations

from typing import ClassVar

from textual.containers import Vertical
from textual.widget import Widget


class Pane(Vertical):
    """A titled pane; subclasses say their number, title and which widget takes focus."""

    DEFAULT_CSS = """
    Pane {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-title-style: bold;
        &:focus-within { border: round $accent; border-title-color: $accent; }
    }
    """

    number: ClassVar[int]
    """The key that focuses this pane."""
    title: ClassVar[str]

    def on_mount(self) -> None:
        self.border_title = f"{self.number} {self.title}"

    @property
    def focus_target(self) -> Widget:
        """The widget the pane's number key focuses."""
        return self.query(Widget).filter(".pane-body").first()
