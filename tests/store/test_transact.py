"""`Store.transact`: the one writer also writes the tables that are not events."""

from __future__ import annotations

import sqlite3

import pytest

from evtui.store import Store


async def test_transact_writes_other_tables_on_the_writer_in_one_transaction(store: Store) -> None:
    def add_two(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO store_meta (key, value) VALUES ('a', '1')")
        conn.execute("INSERT INTO store_meta (key, value) VALUES ('b', '2')")
        return 2

    def add_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO store_meta (key, value) VALUES ('c', '3')")
        raise RuntimeError("boom")

    assert await store.transact(add_two) == 2
    with pytest.raises(RuntimeError, match="boom"):
        await store.transact(add_then_fail)
    async with store.reader.execute("SELECT key FROM store_meta ORDER BY key") as cursor:
        keys = [row[0] for row in await cursor.fetchall()]
    assert keys == ["a", "b", "store_id"]
