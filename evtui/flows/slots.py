"""Concurrency slots: how many runs execute at once, overall and per flow.

Waiting runs are served first come, first served, except that a run whose own flow is at its
limit does not hold up runs of other flows behind it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class _Waiter:
    flow: str
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ConcurrencySlots:
    """A global limit and per-flow limits on runs holding a slot."""

    def __init__(self, limit: int, per_flow: dict[str, int]) -> None:
        self.limit = limit
        self.per_flow = per_flow
        self._held: Counter[str] = Counter()
        self._waiting: list[_Waiter] = []

    @property
    def running(self) -> int:
        return sum(self._held.values())

    def free_for(self, flow: str) -> bool:
        """Whether a run of `flow` asking now would get a slot at once.

        Slots are granted the moment they free up, so a run still waiting never fits now and
        a newcomer that fits overtakes nobody who could have gone.
        """
        flow_limit = self.per_flow.get(flow)
        return self.running < self.limit and (flow_limit is None or self._held[flow] < flow_limit)

    def request(self, flow: str) -> asyncio.Future[None]:
        """Join the queue now; the future is resolved (at once, if free) when the slot is held.

        Joining is synchronous so that runs queue in the order they were submitted, whatever
        order their tasks get to run in.
        """
        waiter = _Waiter(flow)
        self._waiting.append(waiter)
        self._grant()
        return waiter.granted

    def withdraw(self, flow: str, granted: asyncio.Future[None]) -> None:
        """Give up a request: leave the queue, or release the slot if it was granted."""
        queued = [w for w in self._waiting if w.granted is granted]
        if queued:
            self._waiting.remove(queued[0])
            granted.cancel()
            self._grant()
        elif granted.done() and not granted.cancelled():
            self.release(flow)

    def release(self, flow: str) -> None:
        self._held[flow] -= 1
        self._grant()

    def _grant(self) -> None:
        for waiter in list(self._waiting):
            if self.running >= self.limit:
                return
            if self.free_for(waiter.flow):
                self._waiting.remove(waiter)
                self._held[waiter.flow] += 1
                waiter.granted.set_result(None)
