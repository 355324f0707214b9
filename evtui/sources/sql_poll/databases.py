"""The two kinds of polled database, behind one small synchronous interface.

Both run on their source's own thread (one call at a time, never overlapping), keep one
connection open between polls and wrap the user's query the same way:

    SELECT * FROM (<query>) AS evtui_q ORDER BY evtui_q.<cursor> LIMIT <n>

SQLite's connection is read-only and stays open so that `PRAGMA data_version` can tell, without
running the query, that no other connection has committed since the last poll: an idle source
costs one pragma per poll. PostgreSQL has no such counter, so each poll runs the query.

Anything the user must fix (the file is missing, the server refuses, the table or the cursor
column does not exist) is raised as `SourceProblem`, whose message names the setting.
"""

from __future__ import annotations

import math
import os
import sqlite3
import stat
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from urllib.parse import quote

from evtui.sources.postgres.spec import redact
from evtui.sources.sql_poll.spec import CURSOR_PARAMETER, SqlPollSpec, sqlite_path
from evtui.sources.sql_poll.values import CursorValue

ALIAS = "evtui_q"
CONNECT_TIMEOUT = 5
SQLITE_BUSY_MS = 5000
_PG_NUMBERS = {"int2", "int4", "int8", "oid", "numeric", "float4", "float8"}
_PG_TIMES = {"timestamp", "timestamptz", "date"}
_PG_TEXTS = {"text", "varchar", "bpchar", "name", "citext"}


class SourceProblem(Exception):
    """A problem the user must fix; the message starts with the setting it is about."""

    def __init__(self, message: str, *, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent
        """The file or table does not exist (yet): it holds no rows that were there before."""


@dataclass(frozen=True)
class Batch:
    """Rows past the cursor, in cursor order, and the names of their columns."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


class PolledDatabase(Protocol):
    def open(self) -> None:
        """Connect and check the query; raises `SourceProblem`."""

    def changed(self) -> bool:
        """False when nothing can have changed since the last call (skip the poll)."""

    def fetch(self, cursor: CursorValue | None, limit: int) -> Batch:
        """Up to `limit` rows whose cursor is past `cursor` (from the lowest value when None)."""

    def fetch_through(self, cursor: CursorValue | None, through: CursorValue) -> Batch:
        """Every row whose cursor is past `cursor` and at most `through`."""

    def highest(self) -> CursorValue | None:
        """The largest cursor value the query returns now (None when it returns no rows)."""

    def pending(self, cursor: CursorValue | None) -> int:
        """How many rows are past `cursor` (the lag, counted only while behind)."""

    def close(self) -> None: ...


def check_columns(spec: SqlPollSpec, columns: list[str]) -> None:
    """The cursor and key columns must be in the result, named exactly."""
    shown = ", ".join(columns)
    if spec.cursor not in columns:
        raise SourceProblem(
            f"cursor: column {spec.cursor!r} is not in the query's result (it has {shown})"
        )
    for column in spec.key:
        if column not in columns:
            raise SourceProblem(
                f"key: column {column!r} is not in the query's result (it has {shown})"
            )


@dataclass(frozen=True)
class Statements:
    """The user's query wrapped: to learn its columns, to read past a cursor, to find the top."""

    probe: str
    ordered: str
    through: str
    """Rows up to the `through` parameter: all of a cursor value too common for one batch."""
    highest: str
    count: str

    @classmethod
    def wrap(cls, query: str, cursor: str, through: str) -> Statements:
        """`through` is the driver's spelling of a parameter of that name."""
        inner = f"({query}) AS {ALIAS}"
        column = f'{ALIAS}."{cursor}"'
        return cls(
            probe=f"SELECT * FROM {inner} LIMIT 0",
            ordered=f"SELECT * FROM {inner} ORDER BY {column}",
            through=f"SELECT * FROM {inner} WHERE {column} <= {through} ORDER BY {column}",
            highest=f"SELECT max({column}) FROM {inner}",
            count=f"SELECT count(*) FROM {inner}",
        )

    def read(self, limit: int) -> str:
        return f"{self.ordered} LIMIT {int(limit)}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class SqliteDatabase:
    """A SQLite file, opened read-only (`mode=ro`): evtui never writes to what it polls.

    A file replaced by another under its name (a tool that writes a fresh copy and renames
    it) is noticed by its inode, and reopened: the old connection would keep reading the old,
    unlinked file, whose `data_version` never moves again.
    """

    def __init__(self, spec: SqlPollSpec) -> None:
        self.spec = spec
        self.path = sqlite_path(spec.url)
        self._conn: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None
        self._version: int | None = None
        self._sql = Statements.wrap(spec.query, spec.cursor, ":through")

    def _identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None

    def open(self) -> None:
        path = self.path
        self._file = self._identity()
        if self._file is None:
            raise SourceProblem(f"url: {path} does not exist or is not a file", absent=True)
        try:
            conn = sqlite3.connect(
                f"file:{quote(str(path))}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        except sqlite3.Error as error:
            raise SourceProblem(f"url: cannot open {path}: {_first_line(error)}") from None
        self._conn = conn
        try:
            check_columns(self.spec, self._run(self._sql.probe, {"cursor": None}).columns)
        except SourceProblem:
            self.close()
            raise
        self._version = None

    def changed(self) -> bool:
        if self._identity() != self._file:
            self.close()
            self.open()
        (version,) = self._connection().execute("PRAGMA data_version").fetchone()
        changed = version != self._version
        self._version = version
        return changed

    def fetch(self, cursor: CursorValue | None, limit: int) -> Batch:
        return self._run(self._sql.read(limit), {"cursor": _sqlite_bound(cursor)})

    def fetch_through(self, cursor: CursorValue | None, through: CursorValue) -> Batch:
        params = {"cursor": _sqlite_bound(cursor), "through": through}
        return self._run(self._sql.through, params)

    def highest(self) -> CursorValue | None:
        rows = self._run(self._sql.highest, {"cursor": _sqlite_bound(None)}).rows
        return rows[0][0] if rows else None

    def pending(self, cursor: CursorValue | None) -> int:
        return int(self._run(self._sql.count, {"cursor": _sqlite_bound(cursor)}).rows[0][0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise SourceProblem("url: the database is not open")
        return self._conn

    def _run(self, sql: str, params: dict[str, Any]) -> Batch:
        try:
            result = self._connection().execute(sql, params)
            rows = result.fetchall()
        except sqlite3.OperationalError as error:
            reason = _first_line(error)
            absent = reason.startswith("no such table")
            raise SourceProblem(f"query: {reason}", absent=absent) from None
        except sqlite3.Error as error:
            raise SourceProblem(f"query: {type(error).__name__}: {_first_line(error)}") from None
        return Batch([d[0] for d in result.description or ()], rows)


class PostgresDatabase:
    """A PostgreSQL database through psycopg 3, in autocommit: each poll is its own snapshot."""

    def __init__(self, spec: SqlPollSpec) -> None:
        self.spec = spec
        self._conn: Any = None
        self._cursor_type = ""
        query = CURSOR_PARAMETER.sub("%(cursor)s", spec.query.replace("%", "%%"))
        self._sql = Statements.wrap(query, spec.cursor, "%(through)s")

    def open(self) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(
                self.spec.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
        except psycopg.Error as error:
            raise SourceProblem(
                f"url: cannot connect to {redact(self.spec.url)}: {_first_line(error)}"
            ) from None
        try:
            columns, types = self._probe_columns()
            check_columns(self.spec, columns)
            self._cursor_type = types[columns.index(self.spec.cursor)]
        except SourceProblem:
            self.close()
            raise

    def changed(self) -> bool:
        return True

    def fetch(self, cursor: CursorValue | None, limit: int) -> Batch:
        return self._run(self._sql.read(limit), self._bound(cursor))

    def fetch_through(self, cursor: CursorValue | None, through: CursorValue) -> Batch:
        return self._run(self._sql.through, self._bound(cursor), through)

    def highest(self) -> CursorValue | None:
        rows = self._run(self._sql.highest, self._bound(None)).rows
        return rows[0][0] if rows else None

    def pending(self, cursor: CursorValue | None) -> int:
        return int(self._run(self._sql.count, self._bound(cursor)).rows[0][0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _bound(self, cursor: CursorValue | None) -> CursorValue:
        """`cursor`, or while none is known a value below every value of the cursor's type
        (`'-infinity'` is sent untyped, so PostgreSQL reads it as a timestamp or date)."""
        if cursor is not None:
            return cursor
        if self._cursor_type in _PG_NUMBERS:
            return -math.inf
        if self._cursor_type in _PG_TIMES:
            return "-infinity"
        if self._cursor_type in _PG_TEXTS:
            return ""
        raise SourceProblem(
            f"start: the cursor column {self.spec.cursor!r} is of type {self._cursor_type}; "
            "set `start` to the value to begin after"
        )

    def _probe_columns(self) -> tuple[list[str], list[str]]:
        from psycopg.postgres import types

        result = self._execute(self._sql.probe, None)
        described = result.description or []
        names = []
        for column in described:
            info = types.get(column.type_code)
            names.append(info.name if info is not None else str(column.type_code))
        return [column.name for column in described], names

    def _run(self, sql: str, cursor: CursorValue | None, through: Any = None) -> Batch:
        result = self._execute(sql, cursor, through)
        return Batch([c.name for c in result.description or ()], result.fetchall())

    def _execute(self, sql: str, cursor: CursorValue | None, through: Any = None) -> Any:
        import psycopg

        if self._conn is None:
            raise SourceProblem("url: the database is not open")
        try:
            return self._conn.execute(sql, {"cursor": cursor, "through": through})
        except psycopg.Error as error:
            if self._conn.broken:
                self.close()
                raise SourceProblem(
                    f"url: lost {redact(self.spec.url)}: {_first_line(error)}"
                ) from None
            absent = isinstance(error, psycopg.errors.UndefinedTable)
            raise SourceProblem(f"query: {_first_line(error)}", absent=absent) from None


def _sqlite_bound(cursor: CursorValue | None) -> CursorValue:
    """`cursor` as SQLite compares it: a date or timestamp (only ever a `start` from TOML,
    SQLite returns text) as ISO text, the way SQLite stores them; while no cursor is known,
    `-inf`, below every number and, as text ('-Inf'), below ISO dates and words."""
    if cursor is None:
        return -math.inf
    return cursor.isoformat() if isinstance(cursor, date) else cursor


def database_for(spec: SqlPollSpec) -> PolledDatabase:
    return SqliteDatabase(spec) if spec.kind == "sqlite" else PostgresDatabase(spec)


__all__ = [
    "Batch",
    "PolledDatabase",
    "PostgresDatabase",
    "SourceProblem",
    "SqliteDatabase",
    "check_columns",
    "database_for",
]
