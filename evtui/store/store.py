"""The SQLite event store: one writer task that group-commits, readers on their own connection.

Every submission waits in a bounded queue; the writer takes everything queued, writes it in one
transaction and only then resolves the submitters' futures, so an acknowledged event is on
disk (WAL, `synchronous=FULL`). While one transaction commits the next batch gathers, which is
what makes many small requests cheap. Committed events go to the `on_commit` callbacks (the
bus) exactly once, in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from evtui.events import ReceivedEvent
from evtui.filters import EventFilter
from evtui.store.counting import Countable, EventCount, TimeUnit, plan_count
from evtui.store.query import count_statement, page_statement
from evtui.store.rows import (
    EVENT_COLUMNS,
    StoredEvent,
    event_from_row,
    event_row,
    resource_rows,
    to_micros,
)
from evtui.store.schema import migrate

log = logging.getLogger(__name__)

SQLITE_MAX_VARIABLES = 30_000
"""Stay well under SQLite's bound-parameter limit (32,766) in `IN (...)` lists."""


class Overloaded(RuntimeError):
    """The write queue is full; the sender should retry after `retry_after` seconds."""

    def __init__(self, queued: int, retry_after: float = 1.0) -> None:
        super().__init__(f"the write queue is full ({queued} events waiting); retry shortly")
        self.retry_after = retry_after


class StoreClosed(RuntimeError):
    """The store is shutting down and takes no more writes."""


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
    last_batch: int = 0
    queued: int = 0
    total: int = 0
    """Events in the file now: counted once at open, then kept by writes and deletions."""


@dataclass
class _Submission:
    events: Sequence[ReceivedEvent]
    future: asyncio.Future[WriteOutcome]
    queued_at: float = field(default_factory=time.monotonic)


CommitListener = Callable[[list[StoredEvent]], None]


class Store:
    """Owns the SQLite file: schema, the writer task and a reader connection."""

    def __init__(
        self,
        path: Path | str,
        *,
        queue_limit: int = 200_000,
        max_batch: int = 10_000,
    ) -> None:
        self.path = Path(path)
        self.queue_limit = queue_limit
        self.max_batch = max_batch
        self.stats = StoreStats()
        self._listeners: list[CommitListener] = []
        self._pending: deque[_Submission] = deque()
        self._wakeup = asyncio.Event()
        self._write_lock = asyncio.Lock()
        """Held for each write transaction: the writer's commits and retention's deletes."""
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._next_seq = 1
        self._closing = False

    # -- life cycle ---------------------------------------------------------------------

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _connect(self.path)
        await migrate(self._writer)
        async with self._writer.execute("SELECT coalesce(max(seq), 0) FROM events") as cursor:
            row = await cursor.fetchone()
        self._next_seq = int(row[0]) + 1 if row else 1
        self._reader = await _connect(self.path)
        self.stats.total = await self.count_events()
        self._closing = False
        self._task = asyncio.create_task(self._write_loop(), name="evtui-store-writer")

    async def close(self) -> None:
        """Commit everything already accepted, then close the connections."""
        if self._task is None:
            return
        self._closing = True
        self._wakeup.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()
        self._writer = self._reader = None

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

    async def _commit(self, batch: list[_Submission]) -> None:
        try:
            async with self._write_lock:
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
        conn = self._writer
        assert conn is not None
        ids = list({str(e.id) for s in batch for e in s.events})
        existing = await self._existing_ids(conn, ids)
        seen: set[str] = set(existing)
        recorded = to_micros_now()
        event_rows: list[tuple] = []
        res_rows: list[tuple] = []
        committed: list[StoredEvent] = []
        outcomes: list[WriteOutcome] = []
        for submission in batch:
            stored = duplicates = 0
            for event in submission.events:
                key = str(event.id)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                seq = self._next_seq + len(committed)
                event_rows.append(event_row(seq, event, recorded))
                res_rows.extend(resource_rows(event))
                committed.append(StoredEvent(seq, event))
                stored += 1
            outcomes.append(WriteOutcome(stored, duplicates))
        if committed:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.executemany(
                    "INSERT INTO events (seq, id, occurred, event, resource_id, resource, "
                    "related_resource_ids, related, payload, received, recorded, follows) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    event_rows,
                )
                await conn.executemany(
                    "INSERT INTO event_resources "
                    "(occurred, resource_id, resource_role, resource, event_id) "
                    "VALUES (?, ?, ?, ?, ?)",
                    res_rows,
                )
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
            self._next_seq += len(committed)
        self.stats.accepted += len(committed)
        self.stats.total += len(committed)
        self.stats.duplicates += sum(o.duplicates for o in outcomes)
        self.stats.commits += 1
        self.stats.last_batch = len(committed)
        return outcomes, committed

    @staticmethod
    async def _existing_ids(conn: aiosqlite.Connection, ids: list[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(ids), SQLITE_MAX_VARIABLES):
            chunk = ids[start : start + SQLITE_MAX_VARIABLES]
            marks = ",".join("?" * len(chunk))
            async with conn.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk) as cur:
                found.extend(row[0] for row in await cur.fetchall())
        return found

    async def delete_batch(self, before: int, event_name: str | None, limit: int) -> int:
        """Delete up to `limit` events that occurred before `before` (microseconds).

        Resource rows go first, then the events, in one short transaction.
        """
        conn = self._writer
        if conn is None:
            raise StoreClosed("the store is not open")
        where, params = "occurred < ?", [before]
        if event_name is not None:
            where, params = "event = ? AND occurred < ?", [event_name, before]
        async with self._write_lock:
            async with conn.execute(
                f"SELECT id FROM events WHERE {where} LIMIT ?", (*params, limit)
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
            if not ids:
                return 0
            marks = ",".join("?" * len(ids))
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await conn.execute(f"DELETE FROM event_resources WHERE event_id IN ({marks})", ids)
                await conn.execute(f"DELETE FROM events WHERE id IN ({marks})", ids)
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
        self.stats.total -= len(ids)
        return len(ids)

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
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=FULL")
    await conn.execute("PRAGMA busy_timeout=10000")
    await conn.execute("PRAGMA foreign_keys=ON")
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
