"""Causal ordering: an event that `follows` one not yet evaluated waits for it (reference §1.6).

Trigger windows use `occurred`, but *which* bucket an event lands in can depend on the order
of evaluation: an `expect` event evaluated before the `after` event that arms its trigger is
lost. Prefect holds such a follower until its leader has been evaluated, and so does evtui,
with Prefect's constants. Only the order of evaluation changes; nothing here touches buckets.

The held followers and the seen-cache live in memory, as in Prefect's default
(`ordering/memory.py`): after a restart a follower whose leader was evaluated before it is
held until the 15-minute lookback lets it through (the service seeds the seen-cache from
the store to avoid that).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from uuid import UUID

from evtui.events import Event, ReceivedEvent

PRECEDING_EVENT_LOOKBACK = timedelta(minutes=15)
"""An event received this long ago is evaluated without waiting for its leader; a follower
held this long is evaluated alone (its leader was lost)."""
SEEN_TTL = timedelta(minutes=30)
SEEN_MAX = 10_000
MAX_DEPTH = 20
"""Followers of followers are evaluated recursively, at most this deep."""


def received_at(event: Event, now: datetime) -> datetime:
    return event.received if isinstance(event, ReceivedEvent) else now


class CausalOrdering:
    """The seen-cache and the waitlists of held followers, by leader id."""

    def __init__(self) -> None:
        self._seen: OrderedDict[UUID, datetime] = OrderedDict()
        self._waiting: dict[UUID, dict[UUID, Event]] = {}

    def seen(self, event_id: UUID, now: datetime) -> bool:
        at = self._seen.get(event_id)
        return at is not None and now - at < SEEN_TTL

    def mark_seen(self, event_id: UUID, now: datetime) -> None:
        self._seen[event_id] = now
        self._seen.move_to_end(event_id)
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < SEEN_TTL:
                break
            del self._seen[oldest]

    def hold(self, event: Event, now: datetime) -> bool:
        """Park `event` if its leader has not been evaluated yet; True if parked."""
        leader = event.follows
        if leader is None or leader == event.id:
            return False
        if now - received_at(event, now) >= PRECEDING_EVENT_LOOKBACK:
            return False
        if self.seen(leader, now):
            return False
        self._waiting.setdefault(leader, {})[event.id] = event
        return True

    def release(self, leader_id: UUID) -> list[Event]:
        """The followers waiting on a leader just evaluated, oldest `occurred` first."""
        followers = self._waiting.pop(leader_id, {})
        return sorted(followers.values(), key=lambda e: e.occurred)

    def lost(self, now: datetime) -> list[Event]:
        """Followers held longer than the lookback: their leader is not coming."""
        lost: list[Event] = []
        for leader in list(self._waiting):
            waiting = self._waiting[leader]
            for event_id, event in list(waiting.items()):
                if now - received_at(event, now) >= PRECEDING_EVENT_LOOKBACK:
                    lost.append(waiting.pop(event_id))
            if not waiting:
                del self._waiting[leader]
        return sorted(lost, key=lambda e: e.occurred)

    @property
    def held(self) -> int:
        return sum(len(waiting) for waiting in self._waiting.values())
