"""Where each polled source has got to, in evtui's own store (table `source_cursors`).

A cursor is written only after the events of the rows up to it are committed, so after a crash
the source reads those rows again at worst (their event ids are fixed, the store keeps one
copy). `BEGINNING` records "no rows were there at first start": rows that appear while evtui is
stopped are then still delivered, rather than skipped as already-present rows would be.
"""

from __future__ import annotations

import sqlite3
import time

from evtui.store import Store

BEGINNING = "null"
"""Stored when the query returned no rows at first start: read from its lowest value."""


def _key(source: str) -> str:
    return f"sql_poll:{source}"


async def load_cursor(store: Store, source: str) -> str | None:
    """The stored cursor (tagged JSON, or `BEGINNING`), None when the source never stored one."""

    def read(conn: sqlite3.Connection) -> str | None:
        row = conn.execute(
            "SELECT cursor FROM source_cursors WHERE source = ?", (_key(source),)
        ).fetchone()
        return str(row[0]) if row else None

    return await store.transact(read)


async def save_cursor(store: Store, source: str, cursor: str) -> None:
    def write(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO source_cursors (source, cursor, updated) VALUES (?, ?, ?)",
            (_key(source), cursor, time.time_ns() // 1000),
        )

    await store.transact(write)
