"""The bounded, filterable list of events behind the stream pane.

Holds the newest `capacity` events in commit order; the oldest fall off as new ones arrive.
With a filter set, `rows` is the matching subset, kept in step with the events as they come
and go. No Textual here: the widget asks it for rows and is told how many came and went, so
it can keep a paused view still while the list moves underneath.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from evtui.events import Event
from evtui.store.rows import StoredEvent

Matcher = Callable[[Event], bool]


@dataclass(frozen=True, slots=True)
class Change:
    """What one `extend` did to the visible rows."""

    added: int
    """Rows appended at the bottom."""
    dropped: int
    """Rows that fell off the top (their events left the buffer)."""


class EventBuffer:
    """The newest events, and the rows among them that the filter lets through."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.events: deque[StoredEvent] = deque(maxlen=capacity)
        self.matcher: Matcher | None = None
        self._rows: deque[StoredEvent] = self.events
        self.last_seq = 0
        """The newest `seq` taken; anything at or below it is a repeat and skipped."""

    @property
    def rows(self) -> Sequence[StoredEvent]:
        """What the pane shows, oldest first."""
        return self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def extend(self, batch: Iterable[StoredEvent]) -> Change:
        fresh = [stored for stored in batch if stored.seq > self.last_seq]
        if not fresh:
            return Change(0, 0)
        self.last_seq = fresh[-1].seq
        before = len(self._rows)
        self.events.extend(fresh)
        if self.matcher is None:
            added = len(fresh)
        else:
            matcher = self.matcher
            shown = [stored for stored in fresh if matcher(stored.event)]
            self._rows.extend(shown)
            added = len(shown)
            oldest = self.events[0].seq
            while self._rows and self._rows[0].seq < oldest:
                self._rows.popleft()
        return Change(added, before + added - len(self._rows))

    def set_matcher(self, matcher: Matcher | None) -> None:
        """Show only the events `matcher` accepts (all of them for None)."""
        self.matcher = matcher
        if matcher is None:
            self._rows = self.events
        else:
            self._rows = deque(
                (stored for stored in self.events if matcher(stored.event)),
                maxlen=self.capacity,
            )

    def index_of_seq(self, seq: int) -> int:
        """The row holding `seq`, or the nearest older one (0 when none is older)."""
        index = bisect.bisect_right(self._rows, seq, key=lambda stored: stored.seq) - 1
        return max(0, index)
