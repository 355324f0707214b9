"""Run log lines: numbered as they arrive, streamed live at once, stored in batches.

A chatty flow can print thousands of lines a second; one commit per line would starve the
store's single writer. Lines wait here (at most `FLUSH_INTERVAL` or `FLUSH_SIZE` lines) and
go to the store in one transaction for all runs. Live subscribers get each line as it comes,
before it is stored, from a bounded buffer of their own, so a slow reader never holds up a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import datetime

from evtui.events import now_utc
from evtui.flows.records import LogRecord
from evtui.store.runs import RunStore

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.1
"""Seconds a line may wait before its batch is written."""
FLUSH_SIZE = 2000
"""Lines that make a batch be written at once."""
SUBSCRIBER_BUFFER = 10_000
"""Lines held for one live subscriber; past that its oldest lines make way (and are counted)."""


class LogSubscription:
    """Live log lines of one run (or of all runs) for one reader.

    `next_batch()` waits for lines and returns them in arrival order; it returns an empty list
    once the subscription is over: closed, the runner stopped, or (for one run) that run
    finished and its last lines were handed out. A subscription to a run that is not in
    flight is over from the start; read its stored lines with `RunStore.logs`.
    """

    def __init__(self, sink: LogSink, run_id: str | None, limit: int = SUBSCRIBER_BUFFER) -> None:
        self.run_id = run_id
        self.limit = limit
        self.dropped = 0
        """Lines this reader missed because its buffer was full (they are still stored)."""
        self._sink = sink
        self._buffer: deque[LogRecord] = deque()
        self._ready = asyncio.Event()
        self._over = False

    def _offer(self, record: LogRecord) -> None:
        if len(self._buffer) >= self.limit:
            self._buffer.popleft()
            self.dropped += 1
        self._buffer.append(record)
        self._ready.set()

    def _end(self) -> None:
        self._over = True
        self._ready.set()

    async def next_batch(self, max_size: int = 1000) -> list[LogRecord]:
        while not self._buffer and not self._over:
            self._ready.clear()
            await self._ready.wait()
        size = min(max_size, len(self._buffer))
        return [self._buffer.popleft() for _ in range(size)]

    def close(self) -> None:
        self._sink._unsubscribe(self)
        self._end()


class LogSink:
    """Numbers, streams and stores the log lines of every run in flight."""

    def __init__(self, runs: RunStore, keep: int) -> None:
        self.runs = runs
        self.keep = keep
        self._next_seq: dict[str, int] = {}
        self._pending: list[LogRecord] = []
        self._subscribers: dict[str | None, set[LogSubscription]] = {}
        self._wakeup = asyncio.Event()
        """Set when a first line is waiting: the batch is written `FLUSH_INTERVAL` later."""
        self._full = asyncio.Event()
        """Set when a batch is full: it is written at once."""
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="evtui-run-logs")

    async def stop(self) -> None:
        """Write what is pending and end every subscription."""
        self._closing = True
        self._wakeup.set()
        self._full.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            await self.flush()
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                subscription.close()

    def open_run(self, run_id: str) -> None:
        """Start numbering a run's lines (from 1); subscriptions to it are live from now."""
        self._next_seq.setdefault(run_id, 1)

    def finish_run(self, run_id: str) -> None:
        """The run wrote its last line: end the subscriptions to it."""
        self._next_seq.pop(run_id, None)
        for subscription in list(self._subscribers.get(run_id, ())):
            subscription.close()

    def add(
        self,
        run_id: str,
        message: str,
        *,
        level: str = "INFO",
        stream: str = "logger",
        logger: str = "evtui.flow",
        ts: datetime | None = None,
    ) -> LogRecord:
        seq = self._next_seq.get(run_id, 1)
        self._next_seq[run_id] = seq + 1
        record = LogRecord(seq, run_id, ts or now_utc(), level, stream, logger, message)
        self._pending.append(record)
        if len(self._pending) == 1:
            self._wakeup.set()
        elif len(self._pending) >= FLUSH_SIZE:
            self._full.set()
        for key in (run_id, None):
            for subscription in self._subscribers.get(key, ()):
                subscription._offer(record)
        return record

    def subscribe(self, run_id: str | None) -> LogSubscription:
        subscription = LogSubscription(self, run_id)
        if self._closing or (run_id is not None and run_id not in self._next_seq):
            subscription._end()
        else:
            self._subscribers.setdefault(run_id, set()).add(subscription)
        return subscription

    def _unsubscribe(self, subscription: LogSubscription) -> None:
        subscriptions = self._subscribers.get(subscription.run_id)
        if subscriptions is not None:
            subscriptions.discard(subscription)
            if not subscriptions:
                del self._subscribers[subscription.run_id]

    async def flush(self) -> None:
        """Write the lines waiting now (returns once they are committed)."""
        batch, self._pending = self._pending, []
        try:
            await self.runs.append_logs(batch, self.keep)
        except Exception:
            log.exception("storing %d run log lines failed", len(batch))

    async def _flush_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), FLUSH_INTERVAL)
            self._full.clear()
            if self._pending:
                await self.flush()
            if self._closing:
                return
