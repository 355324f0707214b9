"""In-process publish/subscribe of committed events.

The store publishes each committed batch once. Every subscriber has its own bounded buffer, so a
slow one never blocks ingest or the others: when its buffer is full the new events are dropped
*for that subscriber only*, counted, and the subscriber catches up from the store by cursor
(`seq`) the next time it reads. Nothing it was promised is lost, only delayed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from evtui.store.rows import StoredEvent

CatchUp = Callable[[int, int], Awaitable[list[StoredEvent]]]
"""Reads committed events after a cursor (`seq`, limit): `Store.events_after`."""


@dataclass
class SubscriptionStats:
    """What `/api/stats` shows per subscriber."""

    name: str
    lag: int
    dropped: int
    delivered: int


class Subscription:
    """One consumer's view of the bus: batches in commit order, never more than `limit` held."""

    def __init__(self, bus: Bus, key: int, name: str, limit: int, cursor: int) -> None:
        self.key = key
        self.name = name
        self.limit = limit
        self.cursor = cursor
        """The last `seq` handed to the consumer."""
        self.dropped = 0
        self.delivered = 0
        self._bus = bus
        self._buffer: deque[StoredEvent] = deque()
        self._missed_after: int | None = None
        """Set while events past this `seq` must come from the store, not the buffer."""
        self._ready = asyncio.Event()
        self._closed = False

    @property
    def lag(self) -> int:
        """Events committed but not yet read by this consumer."""
        return max(0, self._bus.head - self.cursor)

    def _offer(self, batch: list[StoredEvent]) -> None:
        if self._missed_after is not None or len(self._buffer) + len(batch) > self.limit:
            if self._missed_after is None:
                self._missed_after = self._buffer[-1].seq if self._buffer else self.cursor
            self.dropped += len(batch)
        else:
            self._buffer.extend(batch)
        self._ready.set()

    async def next_batch(
        self, catch_up: CatchUp | None = None, max_size: int = 1000
    ) -> list[StoredEvent]:
        """Wait for the next events. After an overflow, fills the gap from `catch_up`.

        Without `catch_up` the gap is skipped (the drops stay counted in `dropped`).
        """
        while True:
            if self._buffer:
                size = min(max_size, len(self._buffer))
                batch = [self._buffer.popleft() for _ in range(size)]
                return self._deliver(batch)
            if self._missed_after is not None:
                if catch_up is not None and self.cursor < self._bus.head:
                    batch = await catch_up(self.cursor, max_size)
                    if batch:
                        return self._deliver(batch)
                if catch_up is None:
                    self.cursor = self._bus.head
                if self.cursor >= self._bus.head:
                    self._missed_after = None
                continue
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()

    def _deliver(self, batch: list[StoredEvent]) -> list[StoredEvent]:
        self.cursor = batch[-1].seq
        self.delivered += len(batch)
        return batch

    async def batches(self, catch_up: CatchUp | None = None) -> AsyncIterator[list[StoredEvent]]:
        try:
            while True:
                yield await self.next_batch(catch_up)
        except StopAsyncIteration:
            return

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self._bus._remove(self)

    def stats(self) -> SubscriptionStats:
        return SubscriptionStats(self.name, self.lag, self.dropped, self.delivered)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus:
    """Fans committed batches out to subscribers; publishing never waits."""

    def __init__(self, head: int = 0) -> None:
        self.head = head
        """The `seq` of the newest published event."""
        self._subscriptions: dict[int, Subscription] = {}
        self._ids = itertools.count(1)

    def subscribe(self, name: str, limit: int = 10_000) -> Subscription:
        """A new subscriber that sees everything published from now on."""
        subscription = Subscription(self, next(self._ids), name, limit, cursor=self.head)
        self._subscriptions[subscription.key] = subscription
        return subscription

    def publish(self, batch: list[StoredEvent]) -> None:
        if not batch:
            return
        self.head = max(self.head, batch[-1].seq)
        for subscription in list(self._subscriptions.values()):
            subscription._offer(batch)

    def _remove(self, subscription: Subscription) -> None:
        self._subscriptions.pop(subscription.key, None)

    def stats(self) -> list[SubscriptionStats]:
        return [s.stats() for s in self._subscriptions.values()]

    def close(self) -> None:
        for subscription in list(self._subscriptions.values()):
            subscription.close()
