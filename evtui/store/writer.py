"""The store's single writer: one sqlite3 connection on its own thread, one call per transaction.

Readers use aiosqlite, where every statement is a hop between the event loop and the
connection's thread. For the writer those hops were the bottleneck: a commit took half a dozen
of them (check for duplicates, begin, insert events, insert resources, commit), and each waited
for the busy event loop to come round, while the SQLite thread sat idle. Here a whole
transaction is one function run on the writer thread, so the thread goes from one batch to the
next without waiting for the loop in between.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pydantic_core import to_json

from evtui.store.rows import ROW_COLUMNS

T = TypeVar("T")

SWITCH_INTERVAL = 0.0005

SELECT_EXISTING = "SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?))"
INSERT_EVENTS = (
    f"INSERT INTO events (seq, recorded, {ROW_COLUMNS})"
    " SELECT :first + key, :recorded, value->>0, value->>1, value->>2, value->>3, value->>4,"
    " value->>5, value->>6, value->>7, value->>8, value->>9 FROM json_each(:rows)"
)
"""Rows arrive as one JSON array: SQLite unpacks them in C, with the GIL released throughout
(executemany takes the GIL back to bind every row); `seq` is the row's place in the array.
SQLite 3.40 parses a row's JSON again for each `->>`, so the short columns come first and the
long JSON texts last."""
INSERT_RESOURCES = """
    INSERT INTO event_resources (occurred, resource_id, resource_role, resource, event_id)
    SELECT occurred, resource_id, '', json_remove(resource, '$."prefect.resource.id"'), id
    FROM events WHERE seq BETWEEN :first AND :last
    UNION ALL
    SELECT e.occurred,
           r.value ->> '$."prefect.resource.id"',
           r.value ->> '$."prefect.resource.role"',
           json_remove(r.value, '$."prefect.resource.id"', '$."prefect.resource.role"'), e.id
    FROM events e, json_each(e.related) r WHERE e.seq BETWEEN :first AND :last
"""
"""One row per involved resource (the primary with role ""), derived in SQL from the event
rows just inserted: the JSON work happens in SQLite, off the event loop and without the GIL."""

WAL_SIZE_LIMIT = 256 * 1024 * 1024
"""Bytes of WAL file kept when the log starts over after a checkpoint.

Each commit rewrites every index page it touched, some 6 KiB of WAL per event, so at 25,000
events/s the file reaches about 250 MB between two checkpoints (248 MB in `bench/ingest.py
--modes batch`). With a 64 MiB limit SQLite cut the file back after every checkpoint and the
next commits grew it again block by block; kept, it is only overwritten in place: the writer
thread alone ran 10-15 % faster, batch ingest about 12 %. Shutdown still truncates it
(`_close`)."""

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",  # a commit is fsynced before it is acknowledged
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)
"""Every connection's settings."""
WRITER_PRAGMAS = (
    "PRAGMA cache_size=-32768",  # 32 MiB: hot index pages stay in memory
    "PRAGMA wal_autocheckpoint=0",  # checkpoints run beside the writer (Store)
    f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
)


class StoreClosed(RuntimeError):
    """The store is shutting down and takes no more writes."""


def _connect_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (*PRAGMAS, *WRITER_PRAGMAS):
        conn.execute(pragma)
    return conn


class WriteConnection:
    """The one connection that writes, and the thread it lives on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> int:
        """Connect on the writer thread; returns the next free `seq`.

        It also shortens the interpreter's thread switch interval (5 ms by default). The writer
        thread needs the GIL back after each statement, and while the event loop is busy
        validating requests it would wait the whole interval every time, idling the one thread
        that commits. At 0.5 ms batch ingest runs about a fifth faster.
        """
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="evtui-store-writer")
        self._conn = await self._call(_connect_writer, self.path)
        return await self._call(_next_seq, self._conn)

    async def close(self) -> None:
        if self._executor is None or self._conn is None:
            return
        await self._call(_close, self._conn)
        self._executor.shutdown(wait=True)
        self._executor = None
        self._conn = None

    async def insert(
        self, rows: Sequence[tuple], rows_json: str, first_seq: int, recorded: int
    ) -> list[bool]:
        """Insert the events not stored yet, numbered from `first_seq`, in one transaction.

        `rows_json` is `rows` as one JSON array, built on the event loop (where there is time
        to spare) rather than here. Returns, per row, whether it was inserted (False: its id
        was already stored, or came earlier in this same call).
        """
        return await self._call(_insert, self._open(), rows, rows_json, first_seq, recorded)

    async def delete_before(self, before: int, event_name: str | None, limit: int) -> int:
        """Delete up to `limit` events that occurred before `before` (microseconds)."""
        return await self._call(_delete_before, self._open(), before, event_name, limit)

    async def transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` in one IMMEDIATE transaction on the writer thread.

        Everything that is not an event (runs, logs, webhook definitions) is written through
        here, so the file keeps exactly one writer and these writes queue behind event
        commits instead of racing them for the lock.
        """
        conn = self._open()

        def run() -> T:
            with _transaction(conn):
                return work(conn)

        return await self._call(run)

    async def checkpoint(self) -> None:
        """A PASSIVE checkpoint between two commits (see `Store._checkpoint_loop`)."""
        await self._call(_checkpoint, self._open())

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosed("the store is not open")
        return self._conn

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))


def _next_seq(conn: sqlite3.Connection) -> int:
    (highest,) = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
    return int(highest) + 1


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _close(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # leave a tidy file behind
    conn.close()


def _insert(
    conn: sqlite3.Connection,
    rows: Sequence[tuple],
    rows_json: str,
    first_seq: int,
    recorded: int,
) -> list[bool]:
    ids = [row[0] for row in rows]
    seen = {found for (found,) in conn.execute(SELECT_EXISTING, (to_json(ids).decode(),))}
    if seen or len(set(ids)) < len(ids):
        # Resent events (rare): keep the first copy of each id not stored yet.
        inserted = []
        for event_id in ids:
            inserted.append(event_id not in seen)
            seen.add(event_id)
        rows_json = to_json([row for row, fresh in zip(rows, inserted, strict=True) if fresh])
        rows_json = rows_json.decode()
    else:
        inserted = [True] * len(rows)
    count = sum(inserted)
    if count:
        with _transaction(conn):
            conn.execute(
                INSERT_EVENTS, {"rows": rows_json, "first": first_seq, "recorded": recorded}
            )
            conn.execute(INSERT_RESOURCES, {"first": first_seq, "last": first_seq + count - 1})
    return inserted


def _delete_before(
    conn: sqlite3.Connection, before: int, event_name: str | None, limit: int
) -> int:
    """Resource rows first, then their events, in one short transaction."""
    where, params = "occurred < ?", [before]
    if event_name is not None:
        where, params = "event = ? AND occurred < ?", [event_name, before]
    ids = [
        row[0]
        for row in conn.execute(f"SELECT id FROM events WHERE {where} LIMIT ?", (*params, limit))
    ]
    if not ids:
        return 0
    chosen = to_json(ids).decode()
    with _transaction(conn):
        conn.execute(
            "DELETE FROM event_resources WHERE event_id IN (SELECT value FROM json_each(?))",
            (chosen,),
        )
        conn.execute("DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))", (chosen,))
    return len(ids)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
