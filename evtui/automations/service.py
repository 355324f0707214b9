"""The live evaluator: committed events and the passing of time in, firings out.

`AutomationService` subscribes to the bus as "automations" (so it sees only committed events,
in commit order), evaluates each batch with the pure `Evaluator`, writes the buckets the batch
changed and its cursor (the last `seq` evaluated) in ONE transaction, and only then hands the
batch's firings to `on_firing` (the action runner). A crash can therefore lose a firing that
was being handed over, but never repeat one: the buckets that produced it are already
written.

At start-up it reads the buckets back, evaluates the events committed after its cursor (those
a crash left unevaluated), then sweeps once: a Proactive window that ended while evtui was
stopped fires now. The sweep then runs every `tick` seconds (1 s; Prefect: 5 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from evtui.automations.buckets import BucketChanges, SqliteBucketStore
from evtui.automations.evaluator import BucketView, Evaluator
from evtui.automations.firing import Firing
from evtui.automations.ordering import SEEN_MAX, SEEN_TTL
from evtui.events import now_utc
from evtui.store.rows import StoredEvent, from_micros

if TYPE_CHECKING:
    from evtui.engine import Engine

log = logging.getLogger(__name__)

OnFiring = Callable[[Firing], Awaitable[None]]

TICK_SECONDS = 1.0
CURSOR_KEY = "automations.cursor"
"""`store_meta` key of the last event `seq` the evaluator has evaluated."""
CURSOR_IDLE_WRITE = 5.0
"""Seconds between cursor writes when batches change no bucket (so they cost no commit)."""
CATCH_UP_PAGE = 1000


class AutomationService:
    """Runs the evaluator over the engine's events; see the module docstring."""

    def __init__(self, engine: Engine, on_firing: OnFiring, *, tick: float = TICK_SECONDS) -> None:
        self.engine = engine
        self.on_firing = on_firing
        self.tick = tick
        self.buckets = SqliteBucketStore()
        self.evaluator = Evaluator((), self.buckets)
        self.evaluated = 0
        """Events evaluated since start (for stats and benchmarks)."""
        self._cursor = 0
        self._written_cursor = 0
        self._cursor_written_at = 0.0
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription: Any = None

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        store = self.engine.store
        saved = await store.transact(self._load)
        self.evaluator.load(self.engine.automations.all())
        self.engine.automations.add_listener(self._on_change)
        self._subscription = self.engine.subscribe("automations")
        head = self._subscription.cursor
        # Without a saved cursor (a new database, or one from before automations), events
        # stored before this start are history; those stored while the engine was starting
        # (an automation saved and an event sent at once) are news, and are evaluated.
        self._cursor = min(self.engine.opened_seq if saved is None else saved, head)
        self._written_cursor = self._cursor
        await self._seed_seen()
        while self._cursor < head:
            page = await store.events_after(self._cursor, min(CATCH_UP_PAGE, head - self._cursor))
            if not page:
                break
            await self.process(page)
        await self.sweep()
        self._tasks = [
            asyncio.create_task(self._consume(), name="evtui-automations"),
            asyncio.create_task(self._ticks(), name="evtui-automations-sweep"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        async with self._lock:
            await self._write(force_cursor=True)

    def _load(self, conn: sqlite3.Connection) -> int | None:
        self.buckets.load(conn)
        row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (CURSOR_KEY,)).fetchone()
        return int(row[0]) if row else None

    async def _seed_seen(self) -> None:
        """Mark the recently evaluated events as seen, so a follower of one of them is not
        held after a restart (the seen-cache lives in memory)."""
        ordering = self.evaluator.ordering
        if ordering is None:
            return
        now = now_utc()
        async with self.engine.store.reader.execute(
            "SELECT id, received FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT ?",
            (self._cursor, SEEN_MAX),
        ) as cursor:
            rows = await cursor.fetchall()
        for event_id, received in reversed(rows):
            seen_at = from_micros(received)
            if now - seen_at < SEEN_TTL:
                ordering.mark_seen(UUID(event_id), seen_at)

    # -- work -----------------------------------------------------------------------------

    async def _consume(self) -> None:
        while True:
            batch = await self._subscription.next_batch(self.engine.catch_up)
            try:
                await self.process(batch)
            except Exception:
                log.exception("evaluating %d events failed", len(batch))

    async def _ticks(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self.sweep()
            except Exception:
                log.exception("the automations sweep failed")

    async def process(self, batch: Sequence[StoredEvent]) -> list[Firing]:
        """Evaluate committed events (in `seq` order), persist, then hand over firings."""
        batch = [stored for stored in batch if stored.seq > self._cursor]
        if not batch:
            return []
        await self._confirm_leaders(batch)
        async with self._lock:
            firings: list[Firing] = []
            now = now_utc()
            for stored in batch:
                firings.extend(self.evaluator.evaluate(stored.event, now))
            self._cursor = batch[-1].seq
            self.evaluated += len(batch)
            await self._write()
        await self._hand_over(firings)
        return firings

    async def sweep(self) -> list[Firing]:
        async with self._lock:
            firings = self.evaluator.sweep(now_utc())
            await self._write()
        await self._hand_over(firings)
        return firings

    async def _confirm_leaders(self, batch: Sequence[StoredEvent]) -> None:
        """Leaders committed before this batch were evaluated (or predate the cursor): a
        follower must not wait for them. Only leaders still to come justify holding one."""
        ordering = self.evaluator.ordering
        if ordering is None:
            return
        now = now_utc()
        leaders = {
            str(stored.event.follows)
            for stored in batch
            if stored.event.follows is not None and not ordering.seen(stored.event.follows, now)
        }
        if not leaders:
            return
        placeholders = ",".join("?" * len(leaders))
        async with self.engine.store.reader.execute(
            f"SELECT id FROM events WHERE id IN ({placeholders}) AND seq < ?",
            (*leaders, batch[0].seq),
        ) as cursor:
            rows = await cursor.fetchall()
        for (event_id,) in rows:
            ordering.mark_seen(UUID(event_id), now)

    async def _write(self, force_cursor: bool = False) -> None:
        """One transaction: the changed buckets and the cursor. A batch that changed nothing
        writes only its cursor, and at most every few seconds."""
        changes = self.buckets.take_changes()
        cursor = self._cursor
        idle = time.monotonic() - self._cursor_written_at >= CURSOR_IDLE_WRITE
        if not len(changes) and (cursor == self._written_cursor or not (idle or force_cursor)):
            return
        await self.engine.store.transact(lambda conn: _write(conn, changes, cursor))
        self._written_cursor = cursor
        self._cursor_written_at = time.monotonic()

    async def _hand_over(self, firings: list[Firing]) -> None:
        """Outside the lock: acting may change automations (a rate cap pauses one), and
        that change reloads the evaluator under the lock."""
        for firing in firings:
            try:
                await self.on_firing(firing)
            except Exception:
                log.exception(
                    "acting on firing %s of automation %s failed", firing.id, firing.automation.id
                )

    async def _on_change(self, _change: object) -> None:
        """An automation was created, updated, enabled, disabled or deleted: reload all."""
        async with self._lock:
            self.evaluator.load(self.engine.automations.all())
            await self._write()

    # -- reading --------------------------------------------------------------------------

    def state(self, automation_id: UUID) -> list[BucketView]:
        """The automation's live buckets (key, count/threshold, window, time left)."""
        return self.evaluator.views(automation_id, now_utc())

    @property
    def cursor(self) -> int:
        """The `seq` of the last event evaluated."""
        return self._cursor

    @property
    def lag(self) -> timedelta:
        """How far behind real time proactive windows are judged (the events clock)."""
        return -self.evaluator.clock.offset


def _write(conn: sqlite3.Connection, changes: BucketChanges, cursor: int) -> None:
    changes.write(conn)
    conn.execute(
        "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (CURSOR_KEY, str(cursor))
    )
