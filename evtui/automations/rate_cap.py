"""The per-automation rate cap: a runaway automation is paused, not left to spin.

Prefect has no runtime loop breaker (reference §2.11): a flow whose events trigger the same flow
runs until someone notices. Here an automation that fires more than `limit` times within
`seconds` is paused (disabled, as the user's own pause would) and says so. A legitimate burst,
such as a few hundred files dropped at once, stays under the default cap; a loop that re-fires
as fast as runs finish does not.

The cap counts firings in memory: a restart starts the count afresh, while a pause it made
stays (the automation stays disabled until someone enables it again).
"""

from __future__ import annotations

import time
from collections import deque

RATE_CAP_FIRINGS = 500
"""Firings an automation may have within `RATE_CAP_SECONDS`; one more pauses it."""
RATE_CAP_SECONDS = 60.0


class RateCap:
    """Counts each automation's recent firings and remembers which ones it paused."""

    def __init__(self, limit: int = RATE_CAP_FIRINGS, seconds: float = RATE_CAP_SECONDS) -> None:
        self.limit = limit
        self.seconds = seconds
        self._recent: dict[str, deque[float]] = {}
        self._tripped: set[str] = set()
        """Over the cap: paused, or about to be (the firing that tripped it pauses it)."""
        self._capped: dict[str, str] = {}
        """Paused by the cap, with the reason."""

    @property
    def reason(self) -> str:
        return f"rate cap: {self.limit} firings in {self.seconds:g} s"

    def record(self, automation_id: str, now: float | None = None) -> bool:
        """Count one firing; True for the one that takes the automation over the cap (its
        actions are not run; it pauses the automation, then calls `paused`)."""
        moment = time.monotonic() if now is None else now
        recent = self._recent.setdefault(automation_id, deque())
        recent.append(moment)
        while recent and recent[0] <= moment - self.seconds:
            recent.popleft()
        if len(recent) > self.limit and automation_id not in self._tripped:
            self._tripped.add(automation_id)
            return True
        return False

    def paused(self, automation_id: str) -> None:
        """The automation that went over the cap is now paused."""
        self._capped[automation_id] = self.reason

    def capped(self, automation_id: str) -> str | None:
        """Why the automation is paused by the cap, or None if it is not."""
        return self._capped.get(automation_id)

    def release(self, automation_id: str) -> None:
        """The automation was enabled again: forget the pause and start counting afresh."""
        self._tripped.discard(automation_id)
        self._capped.pop(automation_id, None)
        self._recent.pop(automation_id, None)
