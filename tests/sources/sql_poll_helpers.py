"""A small SQLite warehouse to poll, and a real evtui store for the polled events to land in."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polling import until

from evtui.events import Event, now_utc
from evtui.filters import EventFilter
from evtui.sources.sql_poll import SqlPoller
from evtui.store import Store, WriteOutcome

ORDERS = """
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    amount REAL NOT NULL,
    updated_at TEXT NOT NULL
)
"""


class Warehouse:
    """The user's database: written by another connection, as a flow would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as conn:
            conn.execute(ORDERS)
        self.url = f"sqlite:///{path}"

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def insert(self, *rows: tuple[int, str, float, str]) -> None:
        """Rows of (id, customer, amount, updated_at), committed together."""
        with self._connect() as conn:
            conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", rows)

    def execute(self, sql: str, *params: Any) -> None:
        with self._connect() as conn:
            conn.execute(sql, params)


@dataclass
class Landed:
    """evtui's store, with the ingest a poller is given and what each ingest returned."""

    store: Store
    outcomes: list[WriteOutcome] = field(default_factory=list)

    async def ingest(self, events: list[Event]) -> None:
        received = now_utc()
        self.outcomes.append(await self.store.write([e.receive(received) for e in events]))

    async def events(self) -> list[Event]:
        page, _ = await self.store.query_events(
            EventFilter.model_validate({"order": "ASC"}), limit=10_000
        )
        return [stored.event for stored in page]

    async def wait_for(self, count: int) -> list[Event]:
        async def enough() -> list[Event]:
            found = await self.events()
            return found if len(found) >= count else []

        return await until(enough, what=f"{count} stored events")


def orders_entry(url: str, /, **overrides: Any) -> dict[str, Any]:
    """A `watch_sql` entry over `orders` at `url`, polled every 50 ms, rows keyed by id."""
    return {
        "url": url,
        "query": "SELECT * FROM orders WHERE id > :cursor",
        "cursor": "id",
        "every": "50ms",
        **overrides,
    }


def by_update_time(url: str, /, **overrides: Any) -> dict[str, Any]:
    """Like `orders_entry`, with `updated_at` as the cursor, from the first row on."""
    defaults = {
        "query": "SELECT * FROM orders WHERE updated_at > :cursor",
        "cursor": "updated_at",
        "key": "id",
        "start": "",
    }
    return orders_entry(url, **{**defaults, **overrides})


@asynccontextmanager
async def polling(entry: dict[str, Any], landed: Landed) -> AsyncIterator[SqlPoller]:
    poller = SqlPoller(entry, 0, landed.ingest, landed.store)
    await poller.start()
    try:
        yield poller
    finally:
        await poller.stop()
