"""Follow one run's log: the stored lines from a `seq` on, then live ones, until the run is final.

Both the HTTP stream (`GET /api/flow-runs/{id}/logs/stream`) and the in-process TUI read a run's
log this way, so each gets every line exactly once and in order, whether it was stored before
they asked, arrived while they caught up, or comes later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evtui.flows.records import LogRecord
    from evtui.flows.runner import Runner

STREAM_PAGE = 1000
"""Stored log lines read per query while a stream catches up."""
FINAL_CHECK_SECONDS = 0.5
"""How often a quiet log stream checks whether its run has finished."""
RESUBSCRIBE_SECONDS = 0.05
"""Pause before subscribing again to a run that is not in flight (queued, or ending)."""
GAP_WAIT_SECONDS = 2.0
"""How long a stream waits for lines the runner numbered but has not stored yet (it stores
them within a tenth of a second)."""
GAP_POLL_SECONDS = 0.02


class LogFollower:
    """Stored lines of one run from a `seq` on, then live ones, until the run is final.

    Each (re)subscription opens before the store is read, so a line is live, stored, or
    waiting in the runner's next log batch; `seq` (1, 2, 3... per run) tells which lines were
    already sent, and a live line past a hole makes the follower read the hole from the store
    first (waiting briefly for that batch). A subscription is over at once while the run is
    not in flight (still queued, or ending): the follower then reads the store and subscribes
    again shortly. The runner stores all of a run's lines before its final state, so once the
    run is final one more read of the store completes the stream.
    """

    def __init__(self, runner: Runner, run_id: str, after: int) -> None:
        self.runner = runner
        self.run_id = run_id
        self.last = after
        """The `seq` of the last line sent."""

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        subscription = self.runner.subscribe_logs(self.run_id)
        try:
            async for item in self._stored():
                yield item
            while True:
                try:
                    batch: list[LogRecord] | None = await asyncio.wait_for(
                        subscription.next_batch(), FINAL_CHECK_SECONDS
                    )
                except TimeoutError:
                    batch = None
                if batch:
                    async for item in self._live(batch):
                        yield item
                    continue
                run = await self.runner.runs.get_run(self.run_id)
                if run is None or run.is_final:
                    async for item in self._stored():
                        yield item
                    yield {"type": "end", "run": run.to_json() if run else None}
                    return
                if batch is not None:
                    subscription.close()
                    await asyncio.sleep(RESUBSCRIBE_SECONDS)
                    subscription = self.runner.subscribe_logs(self.run_id)
                    async for item in self._stored():
                        yield item
        finally:
            subscription.close()

    def _sent(self, line: LogRecord) -> dict[str, Any]:
        self.last = line.seq
        return {"type": "log"} | line.to_json()

    async def _live(self, batch: list[LogRecord]) -> AsyncIterator[dict[str, Any]]:
        for line in batch:
            if line.seq <= self.last:
                continue
            if line.seq > self.last + 1:
                async for item in self._stored(before=line.seq):
                    yield item
            yield self._sent(line)

    async def _stored(self, before: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """Stored lines after `last`; with `before`, only those below it, waiting up to
        `GAP_WAIT_SECONDS` for lines the runner has numbered but not yet written (lines a
        long run has already trimmed never come: the wait ends there)."""
        deadline = time.monotonic() + GAP_WAIT_SECONDS
        while before is None or self.last < before - 1:
            page = await self.runner.runs.logs(self.run_id, self.last, STREAM_PAGE)
            lines = [line for line in page if before is None or line.seq < before]
            for line in lines:
                yield self._sent(line)
            if before is None and len(page) < STREAM_PAGE:
                return
            if before is not None and not lines:
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(GAP_POLL_SECONDS)
