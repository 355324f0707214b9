"""The SQLite event store: one writer task that group-commits, readers on their own connection.

Every submission waits in a bounded queue; the writer task takes what is queued (up to
`max_batch` events), has the writer thread (`store/writer.py`) write it in one transaction and
only then resolves the submitters' futures, so an acknowledged event is on disk (WAL,
`synchronous=FULL`). While one transaction commits the next batch gathers, which is what makes
many small requests cheap. Committed events go to the commit listeners (the bus) exactly once,
in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import aiosqlite
from pydantic_core import to_json

from evtui.events import ReceivedEvent
from evtui.filters import EventFilter
from evtui.store.counting import Countable, EventCount, TimeUnit, plan_count
from evtui.store.query import count_statement, page_statement
from evtui.store.rows import (
    EVENT_COLUMNS,
    StoredEvent,
    event_from_row,
    event_row,
    to_micros,
)
from evtui.store.schema import migrate
from evtui.store.writer import PRAGMAS, StoreClosed, WriteConnection

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECKPOINT_INTERVAL = 1.0
"""Seconds between WAL checkpoints, which run beside the writer instead of inside a commit."""


class Overloaded(RuntimeError):
    """The write queue is full; the sender should retry after `retry_after` seconds."""

    def __init__(self, queued: int, retry_after: float = 1.0) -> None:
        super().__init__(f"the write queue is full ({queued} events waiting); retry shortly")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What became of one submission: newly stored events and already-stored duplicates."""

    stored: int
    duplicates: int


@dataclass
class StoreStats:
    """Counters for `/api/stats` and the status bar."""

    accepted: int = 0
    duplicates: int = 0
    commits: int = 0
    queued: int = 0
    total: int = 0
    """Events in the file now: counted once at open, then kept by writes and deletions."""


@dataclass
class _Submission:
    """Events waiting for a commit, with their rows already built.

    Rows are built when the events are submitted, on the event loop, while the writer thread
    is busy committing the previous batch: the two kinds of work overlap instead of taking
    turns.
    """

    events: Sequence[ReceivedEvent]
    future: asyncio.Future[WriteOutcome]
    rows: list[tuple] = field(init=False)
    rows_json: str = field(init=False)
    queued_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.rows = [event_row(event) for event in self.events]
        self.rows_json = to_json(self.rows).decode()


CommitListener = Callable[[list[StoredEvent]], None]


class Store:
    """Owns the SQLite file: schema, the writer, a reader connection and WAL checkpoints."""

    def __init__(
        self,
        path: Path | str,
        *,
        queue_limit: int = 200_000,
        max_batch: int = 1600,
    ) -> None:
        self.path = Path(path)
        self.queue_limit = queue_limit
        self.max_batch = max_batch
        self.stats = StoreStats()
        self._listeners: list[CommitListener] = []
        self._pending: deque[_Submission] = deque()
        self._wakeup = asyncio.Event()
        self._writer = WriteConnection(self.path)
        self._reader: aiosqlite.Connection | None = None
        self._checkpointer: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        self._next_seq = 1
        self._closing = False

    # -- life cycle ---------------------------------------------------------------------

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reader = await _connect(self.path)
        await migrate(self._reader)
        self._next_seq = await self._writer.open()
        self.stats.total = await self.count_events()
        self._checkpointer = await _connect(self.path)
        self._closing = False
        self._task = asyncio.create_task(self._write_loop(), name="evtui-store-writer")
        self._checkpoints = asyncio.create_task(
            self._checkpoint_loop(), name="evtui-store-checkpoints"
        )

    async def close(self) -> None:
        """Commit everything already accepted, then close the connections."""
        if self._task is None:
            return
        self._closing = True
        self._wakeup.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoints
            self._checkpoints = None
        for conn in (self._reader, self._checkpointer):
            if conn is not None:
                await conn.close()
        self._reader = self._checkpointer = None
        await self._writer.close()

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def write_lag_seconds(self) -> float:
        """How long the oldest queued event has been waiting for its commit."""
        if not self._pending:
            return 0.0
        return max(0.0, time.monotonic() - self._pending[0].queued_at)

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Called with every committed batch, in commit order, on the event loop."""
        self._listeners.append(listener)

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StoreClosed("the store is not open")
        return self._reader

    # -- writing --------------------------------------------------------------------------

    def submit(self, events: Sequence[ReceivedEvent]) -> asyncio.Future[WriteOutcome]:
        """Queue events for the next commit; the future resolves once they are on disk.

        Raises `Overloaded` instead of queueing past the limit: a sender is told to retry,
        never silently dropped.
        """
        if self._closing or self._task is None:
            raise StoreClosed("the store is shutting down")
        if self.stats.queued + len(events) > self.queue_limit and self.stats.queued:
            raise Overloaded(self.stats.queued)
        future: asyncio.Future[WriteOutcome] = asyncio.get_running_loop().create_future()
        submission = _Submission(events, future)
        self.stats.queued += len(events)
        self._pending.append(submission)
        self._wakeup.set()
        return future

    async def write(self, events: Sequence[ReceivedEvent]) -> WriteOutcome:
        return await self.submit(events)

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch = [self._pending.popleft()]
                size = len(batch[0].events)
                while self._pending and size < self.max_batch:
                    batch.append(self._pending.popleft())
                    size += len(batch[-1].events)
                await self._commit(batch)
            if self._closing:
                return

    async def _checkpoint_loop(self) -> None:
        """Keep the WAL short without putting checkpoints inside commits.

        SQLite's automatic checkpoint runs inside whichever COMMIT crosses its threshold, and
        every request waiting on that commit waits for it too. Here a PASSIVE checkpoint from
        another connection copies the bulk of the new pages beside the writer; then the writer
        itself, between two commits, copies the few pages left. Only a checkpoint that
        completes lets the next transaction start the WAL file over: without that second
        step, under steady ingest the WAL would grow without bound.
        """
        assert self._checkpointer is not None
        commits = self.stats.commits
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL)
            if self.stats.commits == commits:
                continue
            commits = self.stats.commits
            try:
                await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
                await self._writer.checkpoint()
            except sqlite3.Error:
                log.exception("WAL checkpoint failed; the next one will retry")

    async def _commit(self, batch: list[_Submission]) -> None:
        try:
            outcomes, committed = await self._insert(batch)
        except Exception as error:  # the submitters learn of it; the writer keeps going
            log.exception("writing %d submissions failed", len(batch))
            for submission in batch:
                if not submission.future.done():
                    submission.future.set_exception(error)
            outcomes, committed = None, []
        finally:
            self.stats.queued -= sum(len(s.events) for s in batch)
        if outcomes is not None:
            for submission, outcome in zip(batch, outcomes, strict=True):
                if not submission.future.done():
                    submission.future.set_result(outcome)
        if committed:
            for listener in self._listeners:
                try:
                    listener(committed)
                except Exception:
                    log.exception("commit listener %r failed", listener)

    async def _insert(
        self, batch: list[_Submission]
    ) -> tuple[list[WriteOutcome], list[StoredEvent]]:
        rows = [row for s in batch for row in s.rows]
        rows_json = "[" + ",".join(s.rows_json[1:-1] for s in batch if s.rows) + "]"
        inserted = iter(await self._writer.insert(rows, rows_json, self._next_seq, to_micros_now()))
        committed: list[StoredEvent] = []
        outcomes: list[WriteOutcome] = []
        for submission in batch:
            stored = 0
            for event in submission.events:
                if next(inserted):
                    committed.append(StoredEvent(self._next_seq + len(committed), event))
                    stored += 1
            outcomes.append(WriteOutcome(stored, len(submission.events) - stored))
        self._next_seq += len(committed)
        self.stats.accepted += len(committed)
        self.stats.total += len(committed)
        self.stats.duplicates += sum(o.duplicates for o in outcomes)
        self.stats.commits += 1
        return outcomes, committed

    async def delete_batch(self, before: int, event_name: str | None, limit: int) -> int:
        """Delete up to `limit` events that occurred before `before` (microseconds).

        It runs on the writer's thread, between commits, so it never meets a write midway.
        """
        deleted = await self._writer.delete_before(before, event_name, limit)
        self.stats.total -= deleted
        return deleted

    async def transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` in one transaction on the writer's connection and thread.

        For the store's other tables (runs, logs, webhooks): `work` is plain synchronous
        sqlite3 code; its return value comes back here once the transaction has committed.
        """
        return await self._writer.transact(work)

    # -- reading --------------------------------------------------------------------------

    async def count_events(self) -> int:
        async with self.reader.execute("SELECT count(*) FROM events") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def last_seq(self) -> int:
        """The highest committed position; subscribers start after it."""
        return self._next_seq - 1

    async def events_after(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        """Committed events past a cursor, oldest first: how a lagging reader catches up."""
        async with self.reader.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ) as cursor:
            return [event_from_row(tuple(row)) for row in await cursor.fetchall()]

    async def latest(self, limit: int = 100) -> list[StoredEvent]:
        """The newest events, oldest first, to fill a view when it opens."""
        async with self.reader.execute(
            f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq DESC LIMIT ?", (limit,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [event_from_row(tuple(row)) for row in reversed(rows)]

    async def get_event(self, event_id: str) -> StoredEvent | None:
        async with self.reader.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return event_from_row(tuple(row)) if row else None

    async def query_events(
        self, filter: EventFilter, limit: int, offset: int = 0
    ) -> tuple[list[StoredEvent], int]:
        """One page of the events matching `filter`, in its order, and the exact total.

        With `resource.distinct` the page holds one event per resource and the total counts
        resources. A short first page is its own total, which spares the count.
        """
        page = page_statement(filter, limit, offset)
        async with self.reader.execute(page.sql, page.params) as cursor:
            events = [event_from_row(tuple(row)) for row in await cursor.fetchall()]
        if len(events) < limit and (events or offset == 0):
            return events, offset + len(events)
        total = count_statement(filter)
        async with self.reader.execute(total.sql, total.params) as cursor:
            row = await cursor.fetchone()
        return events, int(row[0]) if row else 0

    async def count_by(
        self,
        countable: Countable | str,
        filter: EventFilter,
        time_unit: TimeUnit | str = TimeUnit.day,
        time_interval: float = 1.0,
    ) -> list[EventCount]:
        """Matching events counted per name, resource or time bucket (see `counting`).

        Raises `InvalidCountParameters` for an interval under 0.01 or over 1000 buckets.
        """
        plan = plan_count(Countable(countable), filter, TimeUnit(time_unit), time_interval)
        async with self.reader.execute(plan.statement.sql, plan.statement.params) as cursor:
            rows = await cursor.fetchall()
        return plan.collect([tuple(row) for row in rows])


def to_micros_now() -> int:
    return time.time_ns() // 1000


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    return conn


__all__ = [
    "Overloaded",
    "Store",
    "StoreClosed",
    "StoreStats",
    "StoredEvent",
    "WriteOutcome",
    "to_micros",
]
