"""A polled SQL source: every `every` seconds, rows past the stored cursor become events.

One task per source. Each poll: skip at once if SQLite says nothing was committed since the
last one (`PRAGMA data_version`); otherwise read up to `batch_size` rows past the cursor in
cursor order, `ingest` them (which returns once the store has committed them), and only then
store the last row's cursor. A full batch is followed by the next at once.

A full batch may end in the middle of rows sharing one cursor value; reading past that value
next time would skip the rest, so those trailing rows are left for the next read (or, when the
whole batch shares one value, all rows past the cursor are read at once).

The cursor must grow in commit order: a row committed after the cursor has passed its value
is never read. With SQLite's single writer, `INTEGER PRIMARY KEY` ids and timestamps set inside
the writing transaction do; PostgreSQL `serial` ids and `now()` timestamps of concurrent
transactions may commit out of order, which is what `--watch-db` (triggers and an outbox) is for.

Nothing here stops evtui: a bad entry, a missing file, an unreachable server or a query that
fails becomes one message naming the setting, logged once and shown in `stats`, and the source
retries with backoff, so a database that comes back is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from evtui.sources.delivery import Ingest, ingest_until_stored, stop_task
from evtui.sources.postgres.spec import redact
from evtui.sources.sql_poll.cursors import BEGINNING, load_cursor, save_cursor
from evtui.sources.sql_poll.databases import Batch, PolledDatabase, SourceProblem, database_for
from evtui.sources.sql_poll.events import RowEvents
from evtui.sources.sql_poll.spec import SqlPollSpec, entry_label
from evtui.sources.sql_poll.values import (
    CursorValue,
    UnsupportedCursor,
    decode_cursor,
    encode_cursor,
    text_value,
)
from evtui.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_ATTEMPT_SECONDS = 10.0
"""How long `start` waits for the first poll before returning (it never fails)."""
STOP_SECONDS = 10.0
"""How long `stop` lets a batch being stored finish before cancelling it."""


class SqlPoller:
    """Polls one `watch_sql` entry and ingests its new rows."""

    first_retry = 0.5
    """Seconds before retrying after a problem; doubled after each failure up to `max_retry`."""
    max_retry = 30.0

    def __init__(self, entry: dict[str, Any], index: int, ingest: Ingest, store: Store) -> None:
        self._ingest = ingest
        self._store = store
        self.spec: SqlPollSpec | None = None
        self._error: str | None = None
        try:
            self.spec = SqlPollSpec.parse(entry, index)
        except ValueError as error:
            self._error = str(error)
        self.name = self.spec.name if self.spec else entry_label(entry, index)
        self._db: PolledDatabase | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._builder: RowEvents | None = None
        self._cursor: CursorValue | None = None
        self._cursor_loaded = False
        self._snapshot_due = False
        """No cursor stored and no `start`: the first poll records the highest value now."""
        self._more = False
        self._task: asyncio.Task[None] | None = None
        self._attempted = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self._storing = False
        self._delivered = 0
        self._lag: int | None = None
        self._polls = 0
        self._skipped = 0

    def refuse(self, reason: str) -> None:
        """Keep this source from starting (e.g. its name is taken), saying why."""
        self.spec = None
        self._error = f"watch_sql[{self.name}]: {reason}"

    @property
    def kind(self) -> str:
        return f"{self.spec.kind} poll" if self.spec else "sql poll"

    def stats(self) -> dict[str, Any]:
        """For `GET /api/stats` (`db_sources`, the same keys as the PostgreSQL source's)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "lag": self._lag,
            "delivered": self._delivered,
            "error": self._error,
            "connected": self._db is not None,
            "cursor": text_value(self._cursor) if self._cursor is not None else None,
            "polls": self._polls,
            "skipped_polls": self._skipped,
            "every": self.spec.every if self.spec else None,
        }

    async def start(self) -> None:
        """Start polling; returns after the first poll (or its failure), never raises."""
        if self.spec is None:
            log.error("%s", self._error)
            return
        if self._task is not None:
            return
        self._stopping = False
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"evtui-sql-{self.name}")
        self._task = asyncio.create_task(self._run(self.spec), name=f"evtui-sql-{self.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._attempted.wait(), FIRST_ATTEMPT_SECONDS)

    async def stop(self) -> None:
        """Stop; a batch being stored gets `STOP_SECONDS` to be stored and its cursor saved."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await stop_task(self._task, self._storing, STOP_SECONDS, self.name)
        self._task = None
        await self._close()
        if self._thread is not None:
            self._thread.shutdown(wait=False)
            self._thread = None

    def poll_now(self) -> None:
        """Poll without waiting for the rest of `every` (tests, and a user's "refresh")."""
        self._wake.set()

    # -- the polling loop -------------------------------------------------------------------

    async def _run(self, spec: SqlPollSpec) -> None:
        delay = self.first_retry
        while not self._stopping:
            started = time.monotonic()
            try:
                await self._poll(spec)
                if self._error is not None:
                    log.info("watch_sql[%s]: working again", self.name)
                self._error, delay = None, self.first_retry
                # `every` runs from one poll's start to the next: slow polls don't stretch it.
                wait = 0 if self._more else max(0.0, spec.every - (time.monotonic() - started))
            except Exception as problem:
                message = self._describe(problem)
                if message != self._error:
                    expected = isinstance(problem, SourceProblem | UnsupportedCursor)
                    log.error("%s (retrying)", message, exc_info=not expected)
                self._error = message
                await self._close()
                wait, delay = delay, min(delay * 2, self.max_retry)
            self._attempted.set()
            if wait and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    def _describe(self, problem: Exception) -> str:
        """One line naming the source and the setting (or, for the unforeseen, the error)."""
        if isinstance(problem, SourceProblem):
            return f"watch_sql[{self.name}].{problem}"
        if isinstance(problem, UnsupportedCursor):
            return f"watch_sql[{self.name}].cursor: {problem}"
        return f"watch_sql[{self.name}]: {type(problem).__name__}: {problem}"

    async def _poll(self, spec: SqlPollSpec) -> None:
        if not self._cursor_loaded:
            await self._load_cursor(spec)
        try:
            db = await self._open(spec)
        except SourceProblem as problem:
            if problem.absent and self._snapshot_due:
                await self._snapshot(spec, None)
            raise
        if self._snapshot_due:
            await self._snapshot(spec, await self._call(db.highest))
        if not self._more and not await self._call(db.changed):
            self._skipped += 1
            return
        self._polls += 1
        batch = await self._call(db.fetch, self._cursor, spec.batch_size)
        _check_cursors(spec, batch)
        rows = batch.rows
        self._more = len(rows) == spec.batch_size
        if self._more:
            rows = await self._whole_values(spec, db, batch)
        if not rows:
            self._lag = 0
            return
        builder = self._events_for(spec, batch.columns)
        last = builder.cursor_of(rows[-1])
        encoded = encode_cursor(last)
        events = await self._call(builder.events, rows)
        self._storing = True
        try:
            await ingest_until_stored(
                self._ingest, events, f"watch_sql[{self.name}]", self.first_retry, self.max_retry
            )
            await save_cursor(self._store, spec.name, encoded)
        finally:
            self._storing = False
        self._cursor = last
        self._delivered += len(events)
        self._lag = await self._call(db.pending, last) if self._more else 0

    async def _whole_values(
        self, spec: SqlPollSpec, db: PolledDatabase, batch: Batch
    ) -> list[tuple[Any, ...]]:
        """A full batch without its trailing rows of the last cursor value (see the module)."""
        index = batch.columns.index(spec.cursor)
        last = batch.rows[-1][index]
        kept = [row for row in batch.rows if row[index] != last]
        if kept:
            return kept
        return (await self._call(db.fetch_through, self._cursor, last)).rows

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a database call on this source's one thread: calls never overlap, so closing
        waits for a query that a cancelled poll left running."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def _open(self, spec: SqlPollSpec) -> PolledDatabase:
        if self._db is None:
            db = database_for(spec)
            await self._call(db.open)
            self._db = db
            log.info(
                "watch_sql[%s]: polling %s every %g s, %s",
                self.name,
                redact(spec.url),
                spec.every,
                self._position(spec),
            )
        return self._db

    def _position(self, spec: SqlPollSpec) -> str:
        if self._snapshot_due:
            return "rows there now skipped"
        if self._cursor is None:
            return "from the first row"
        return f"after {spec.cursor} {text_value(self._cursor)}"

    async def _close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await self._call(db.close)

    async def _load_cursor(self, spec: SqlPollSpec) -> None:
        """The stored cursor; else `start`; else a snapshot is due (see `_snapshot`)."""
        stored = await load_cursor(self._store, spec.name)
        if stored is not None:
            self._cursor = None if stored == BEGINNING else decode_cursor(stored)
        elif spec.start is not None:
            self._cursor = spec.start
        else:
            self._snapshot_due = True
        self._cursor_loaded = True

    async def _snapshot(self, spec: SqlPollSpec, highest: CursorValue | None) -> None:
        """Rows there at first start are not announced: the highest cursor value now is
        saved at once, so rows added while evtui is stopped are not taken for old ones. A
        file or table that does not exist yet holds no old rows (`highest` None)."""
        encoded = BEGINNING if highest is None else encode_cursor(highest)
        await save_cursor(self._store, spec.name, encoded)
        self._cursor = highest
        self._snapshot_due = False

    def _events_for(self, spec: SqlPollSpec, columns: list[str]) -> RowEvents:
        if self._builder is None or self._builder.columns != columns:
            self._builder = RowEvents(spec, columns)
        return self._builder


def _check_cursors(spec: SqlPollSpec, batch: Batch) -> None:
    """A NULL cursor sorts first (SQLite) or last (PostgreSQL), and can never be passed."""
    if not batch.rows:
        return
    index = batch.columns.index(spec.cursor)
    if batch.rows[0][index] is None or batch.rows[-1][index] is None:
        raise SourceProblem(
            f"cursor: the query returns rows whose {spec.cursor} is NULL; leave them out "
            f"(AND {spec.cursor} IS NOT NULL)"
        )


def sql_pollers(entries: Iterable[dict[str, Any]], ingest: Ingest, store: Store) -> list[SqlPoller]:
    """One poller per `watch_sql` entry; a name used twice (they would share a cursor) keeps
    only its first source."""
    pollers: list[SqlPoller] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        poller = SqlPoller(entry, index, ingest, store)
        if poller.spec is not None and poller.name in seen:
            poller.refuse(
                f"name {poller.name!r} is used by another watch_sql source; give each its own "
                "`name` (it keys the stored cursor)"
            )
        seen.add(poller.name)
        pollers.append(poller)
    return pollers
