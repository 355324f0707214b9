"""The PostgreSQL source: outbox rows become events, and are deleted only once stored.

One connection per watched database, in autocommit mode. The loop: read the oldest outbox rows
of the watched tables (by id, `batch_size` at a time), `ingest` them as events (which returns
once the store has committed them; the next batch is read meanwhile), delete exactly those
rows, and repeat until none are left; then wait for a `NOTIFY` (or `POLL_SECONDS`, in case one
was missed) and start over. Rows written while evtui was stopped are simply there at start. A
row is never deleted before its event is stored, and its event id is fixed by the row, so a
crash or a dropped connection between the two can only deliver it again, which the store's
dedupe absorbs.

Nothing here stops evtui: an unreachable database, missing rights, a missing trigger or table
becomes one message (logged once, shown in `stats`) and the source retries with backoff, so a
database that comes back, or a trigger installed later, is picked up without a restart; a
table that fails its check does not hold back the source's other tables.
Ordering: rows are delivered in outbox id order, which within a transaction is the order of
its changes; a transaction that commits after another with higher ids is delivered after it.
One evtui per watched table: delivered rows are deleted, so a second evtui watching the same
table would only get what the first had not taken yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from evtui.events import Event
from evtui.sources.delivery import ingest_until_stored, stop_task
from evtui.sources.postgres.changes import (
    SELECT_COLUMNS,
    Database,
    OutboxRow,
    change_event,
    display_host,
)
from evtui.sources.postgres.install import CHANNEL, TRIGGER
from evtui.sources.postgres.spec import DbWatchSpec, redact

log = logging.getLogger(__name__)

Ingest = Callable[[list[Event]], Awaitable[object]]

CONNECT_TIMEOUT = 5
"""Seconds to wait for the server before counting the attempt as failed."""
POLL_SECONDS = 5.0
"""Longest wait for a notification before reading the outbox anyway."""
LAG_SECONDS = 1.0
"""How often the lag (outbox rows not yet delivered) is counted while a backlog drains."""
STOP_SECONDS = 10.0
"""How long `stop` lets a batch being stored finish before cancelling it."""


class SourceProblem(RuntimeError):
    """The database is reachable but not usable as configured; the message says what to do."""


class PostgresSource:
    """Delivers the outbox of one database (`DbWatchSpec`) to `ingest`."""

    first_retry = 0.5
    """Seconds before the first reconnection; doubled after each failure up to `max_retry`."""
    max_retry = 30.0

    def __init__(self, spec: DbWatchSpec, ingest: Ingest) -> None:
        self.spec = spec
        self._ingest = ingest
        self._task: asyncio.Task[None] | None = None
        self._attempted = asyncio.Event()
        self._stopping = False
        self._storing = False
        self._connected = False
        self._delivered = 0
        self._lag: int | None = None
        self._lag_counted = 0.0
        self._error: str | None = None
        self._tables: list[str] = []

    @property
    def name(self) -> str:
        return self.spec.label

    @property
    def kind(self) -> str:
        return "postgresql"

    def stats(self) -> dict[str, Any]:
        """For `GET /api/stats` (`db_sources`) and the status bar."""
        return {
            "name": self.name,
            "kind": self.kind,
            "lag": self._lag,
            "delivered": self._delivered,
            "error": self._error,
            "connected": self._connected,
            "tables": list(self.spec.tables),
        }

    async def start(self) -> None:
        """Start delivering; returns after the first connection attempt, failed or not."""
        if self._task is not None:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"evtui-db-{self.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._attempted.wait(), CONNECT_TIMEOUT + 1)

    async def stop(self) -> None:
        """Stop; a batch being stored gets `STOP_SECONDS` to be stored and deleted."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self._stopping = True
        await stop_task(task, self._storing, STOP_SECONDS, self.name)

    # -- the connection loop ----------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.first_retry
        while not self._stopping:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.spec.url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT,
                    application_name=f"evtui {self.name}"[:63],
                ) as conn:
                    database = await self._check(conn)
                    await self._check_tables(conn)
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._connected, delay = True, self.first_retry
                    log.info("%s: delivering changes to %s", self.name, ", ".join(self._tables))
                    self._attempted.set()
                    await self._follow(conn, database)
            except Exception as error:
                self._report(error)
            finally:
                self._connected = False
            self._attempted.set()
            if self._stopping:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry)

    def _install_hint(self, tables: list[str]) -> str:
        return (
            f"run `evtui db install-triggers {redact(self.spec.url)} --tables {','.join(tables)}`"
        )

    async def _check(self, conn: psycopg.AsyncConnection[Any]) -> Database:
        """The outbox's id, once the role may read and delete the outbox."""
        hint = self._install_hint(self.spec.tables)
        cursor = await conn.execute(
            "SELECT has_schema_privilege(n.oid, 'USAGE') "
            "AND has_table_privilege(c.oid, 'SELECT, DELETE'), current_user "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'evtui' AND c.relname = 'outbox'"
        )
        outbox = await cursor.fetchone()
        if outbox is None:
            raise SourceProblem(f"database {conn.info.dbname} has no evtui outbox: {hint}")
        if not outbox[0]:
            raise SourceProblem(
                f"role {outbox[1]} may not read and delete evtui.outbox: GRANT USAGE ON SCHEMA "
                f"evtui TO {outbox[1]}; GRANT SELECT, DELETE ON evtui.outbox TO {outbox[1]}"
            )
        cursor = await conn.execute("SELECT id FROM evtui.install")
        install_row = await cursor.fetchone()
        if install_row is None:
            raise SourceProblem(f"the evtui outbox in {conn.info.dbname} is incomplete: {hint}")
        info = conn.info
        return Database(display_host(info.host, info.port), info.dbname, install_row[0])

    async def _check_tables(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Resolve each watched table and check its trigger; deliver those that pass.

        A missing table or trigger is named in `error` while the other tables are delivered;
        with none left, the connection attempt fails (and is retried).
        """
        tables, problems = [], []
        for name in self.spec.tables:
            cursor = await conn.execute(
                """
                SELECT n.nspname || '.' || c.relname,
                       EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = %s),
                       EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = to_regclass(%s)
                """,
                (TRIGGER, name),
            )
            row = await cursor.fetchone()
            if row is None:
                problems.append(f"table {name!r} does not exist in {conn.info.dbname}")
            elif not row[1]:
                hint = self._install_hint([row[0]])
                if row[2]:
                    problems.append(f"table {row[0]} has no evtui trigger: {hint}")
                else:
                    problems.append(
                        f"table {row[0]} has no primary key (each change is named by its key): "
                        f"add one, then {hint}"
                    )
            else:
                tables.append(row[0])
        if not tables:
            raise SourceProblem("; ".join(problems))
        if problems:
            self._report(SourceProblem("; ".join(problems)))
        else:
            self._error = None
        self._tables = tables

    def _report(self, error: Exception) -> None:
        """Keep the problem for `stats`; log it when it is new."""
        message = describe(error, self.spec)
        if message != self._error:
            log.error("%s (retrying)", message)
        self._error = message

    async def _follow(self, conn: psycopg.AsyncConnection[Any], database: Database) -> None:
        """Drain, wait for a notification (or `POLL_SECONDS`), repeat; tables that failed
        their check are checked again each time, so a trigger installed later is picked up."""
        while not self._stopping:
            await self._drain(conn, database)
            if self._stopping:  # `stop` waited for the batch being stored: it is done
                return
            async for _ in conn.notifies(timeout=POLL_SECONDS, stop_after=1):
                pass
            if len(self._tables) < len(self.spec.tables):
                await self._check_tables(conn)

    async def _drain(self, conn: psycopg.AsyncConnection[Any], database: Database) -> None:
        """Deliver outbox rows until none of the watched tables' are left.

        The store commits one batch while the next is read and turned into events; a batch is
        submitted only after the one before it is committed, so the store keeps their order,
        and rows are deleted only after their own batch is committed.
        """
        after = 0
        in_flight: tuple[asyncio.Task[None], list[int]] | None = None
        try:
            while True:
                rows = [] if self._stopping else await self._read(conn, after)
                if in_flight is not None:
                    task, ids = in_flight
                    await task
                    await conn.execute("DELETE FROM evtui.outbox WHERE id = ANY(%s)", (ids,))
                    self._delivered += len(ids)
                    in_flight = None
                await self._update_lag(conn, more=bool(rows))
                if not rows:
                    return
                after = rows[-1].id
                events = [change_event(database, row, self.name) for row in rows]
                self._storing = True
                in_flight = (asyncio.create_task(self._store(events)), [row.id for row in rows])
        finally:
            self._storing = False
            if in_flight is not None:
                in_flight[0].cancel()

    async def _read(self, conn: psycopg.AsyncConnection[Any], after: int) -> list[OutboxRow]:
        cursor = await conn.execute(
            f"SELECT {SELECT_COLUMNS} FROM evtui.outbox WHERE id > %s "
            "AND table_schema || '.' || table_name = ANY(%s) ORDER BY id LIMIT %s",
            (after, self._tables, self.spec.batch_size),
        )
        return [OutboxRow(*row) for row in await cursor.fetchall()]

    async def _update_lag(self, conn: psycopg.AsyncConnection[Any], more: bool) -> None:
        """Counted at most once per `LAG_SECONDS` while rows remain; none left means 0."""
        now = time.monotonic()
        if not more:
            self._lag = 0
        elif now - self._lag_counted >= LAG_SECONDS:
            cursor = await conn.execute(
                "SELECT count(*) FROM evtui.outbox "
                "WHERE table_schema || '.' || table_name = ANY(%s)",
                (self._tables,),
            )
            row = await cursor.fetchone()
            self._lag = int(row[0]) if row else 0
            self._lag_counted = now

    async def _store(self, events: list[Event]) -> None:
        await ingest_until_stored(self._ingest, events, self.name, self.first_retry, self.max_retry)


def describe(error: Exception, spec: DbWatchSpec) -> str:
    """One line naming the source and what went wrong."""
    where = f"watch_db {spec.label}"
    if isinstance(error, SourceProblem):
        return f"{where}: {error}"
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return f"{where}: permission denied: {error.diag.message_primary}"
    if isinstance(error, psycopg.OperationalError):
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "no reason given"
        return f"{where}: cannot connect or lost the connection: {reason}"
    if isinstance(error, psycopg.Error):
        return f"{where}: {type(error).__name__}: {error.diag.message_primary or error}"
    return f"{where}: {type(error).__name__}: {error}"
