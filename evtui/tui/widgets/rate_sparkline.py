"""Events per second over the last minute, as a sparkline beside the status line.

Counted from the batches the TUI receives (not from the store), one bar per second, shifted on
the screen's one-second tick, so it costs nothing per event beyond an addition.
"""

from __future__ import annotations

from collections import deque

from textual.widgets import Sparkline

SECONDS = 60


class RateSparkline(Sparkline):
    """`count(n)` as events arrive, `tick()` once a second."""

    DEFAULT_CSS = """
    RateSparkline { width: 32; height: 1; background: $panel; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        self.seconds: deque[float] = deque([0.0] * SECONDS, maxlen=SECONDS)
        """Events per second, oldest first; the last entry is the second in progress."""
        super().__init__(list(self.seconds), id=id)
        self.tooltip = "events per second, last minute"

    def count(self, events: int) -> None:
        self.seconds[-1] += events

    def tick(self) -> None:
        self.data = list(self.seconds)
        self.seconds.append(0.0)
