"""Bad `watch_sql` input: one message naming the setting, in `stats()`, and evtui keeps going."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from polling import until
from sql_poll_helpers import Landed, Warehouse, orders_entry, polling

from evtui.sources.sql_poll import SqlPoller, SqlPollSpec, sql_pollers
from evtui.store import Store


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"query": "SELECT * FROM orders"},
            "watch_sql[warehouse].query: the query has no :cursor parameter; compare the cursor "
            "column with it, e.g. WHERE updated_at > :cursor",
        ),
        (
            {"query": "SELECT id::cursor FROM orders"},
            "watch_sql[warehouse].query: the query has no :cursor parameter",
        ),
        ({"url": "mysql://db/shop"}, "watch_sql[0].url: 'mysql://db/shop' is neither sqlite"),
        (
            {"url": "postgresql://ann:s3cret@db/shop", "every": "soon"},
            "watch_sql[shop].every: 'soon' is not a duration such as 5s, 500ms or 2m",
        ),
        ({"cursor": "id; DROP"}, "watch_sql[warehouse].cursor: 'id; DROP' is not a column name"),
        ({"key": "id,"}, None),
        ({"key": "a b"}, "watch_sql[warehouse].key: 'a b' is not a column name"),
        ({"name": "my orders"}, "watch_sql[my orders].name: 'my orders' may hold only letters"),
        ({"tables": "orders"}, "watch_sql[warehouse].tables: unknown setting (expected url,"),
        ({"every": "0s"}, "watch_sql[warehouse].every: Input should be greater than or equal"),
    ],
)
def test_a_bad_entry_names_the_setting(
    warehouse: Warehouse, change: dict[str, Any], message: str | None
) -> None:
    entry = orders_entry(warehouse.url, **change)
    if message is None:
        assert SqlPollSpec.parse(entry, 0).key == ["id"]
        return
    with pytest.raises(ValueError) as raised:
        SqlPollSpec.parse(entry, 0)
    assert str(raised.value).startswith(message)
    assert "s3cret" not in str(raised.value)


def test_durations_names_and_resources() -> None:
    spec = SqlPollSpec.parse(
        {
            "url": "postgresql://ann:s3cret@db.example:5433/shop",
            "query": "SELECT * FROM orders WHERE id > :cursor",
            "cursor": "id",
            "every": "2m",
        },
        0,
    )
    assert (spec.name, spec.every, spec.kind) == ("shop", 120.0, "postgresql")
    assert spec.resource_base == "postgresql://db.example:5433/shop"
    socket = spec.model_copy(update={"url": "postgresql://ann@/shop?host=/run/postgresql"})
    assert socket.resource_base == "postgresql://localhost/shop"
    relative = SqlPollSpec.parse({**spec.model_dump(), "url": "sqlite:///w.db", "name": ""}, 0)
    assert relative.name == "w"
    assert relative.resource_base == f"sqlite:///{Path('w.db').resolve()}"
    assert SqlPollSpec.parse({**relative.model_dump(), "every": 0.5}, 0).every == 0.5


async def test_a_bad_entry_is_reported_at_start_and_in_stats_without_raising(
    warehouse: Warehouse, landed: Landed
) -> None:
    async with polling(orders_entry(warehouse.url, query="SELECT * FROM orders"), landed) as poller:
        stats = poller.stats()
    assert stats["name"] == "warehouse"
    assert stats["error"].startswith("watch_sql[warehouse].query: the query has no :cursor")
    assert stats["delivered"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"query": "SELECT * FROM orderz WHERE id > :cursor"}, ".query: no such table: orderz"),
        (
            {"cursor": "updatedat"},
            ".cursor: column 'updatedat' is not in the query's result "
            "(it has id, customer, amount, updated_at)",
        ),
        (
            {"key": "id,order_id"},
            ".key: column 'order_id' is not in the query's result "
            "(it has id, customer, amount, updated_at)",
        ),
    ],
)
async def test_a_query_that_does_not_fit_the_database_is_named(
    warehouse: Warehouse, landed: Landed, change: dict[str, Any], message: str
) -> None:
    async with polling(orders_entry(warehouse.url, **change), landed) as poller:
        assert poller.stats()["error"] == f"watch_sql[warehouse]{message}"
        assert poller.stats()["connected"] is False


async def test_a_missing_file_is_named_not_created_and_its_first_rows_are_new(
    tmp_path: Path, landed: Landed
) -> None:
    path = tmp_path / "later.db"
    async with polling(orders_entry(f"sqlite:///{path}"), landed) as poller:
        assert poller.stats()["error"] == (
            f"watch_sql[later].url: {path} does not exist or is not a file"
        )
        assert not path.exists()
        # Rows of a file that did not exist at first start were not "already there".
        Warehouse(path).insert((1, "acme", 1.0, "2026-11-26"))
        poller.poll_now()
        await landed.wait_for(1)
        await until(lambda: _healthy(poller), what="the error cleared")


async def test_a_table_created_later_delivers_its_first_rows_even_across_a_restart(
    tmp_path: Path, landed: Landed
) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    async with polling(orders_entry(f"sqlite:///{path}"), landed) as poller:
        assert poller.stats()["error"] == "watch_sql[shop].query: no such table: orders"
    Warehouse(path).insert((1, "acme", 1.0, "2026-11-26"))  # while evtui is stopped
    async with polling(orders_entry(f"sqlite:///{path}"), landed):
        (event,) = await landed.wait_for(1)
    assert event.resource["evtui.db.key"] == "1"


async def _healthy(poller: SqlPoller) -> bool:
    return poller.stats()["error"] is None


async def test_one_bad_source_leaves_the_others_polling(
    warehouse: Warehouse, landed: Landed, tmp_path: Path
) -> None:
    entries = [
        orders_entry(warehouse.url, name="orders", start=0),
        orders_entry(
            warehouse.url, name="orders", query="SELECT * FROM orders WHERE id >= :cursor"
        ),
        orders_entry(warehouse.url, name="ghost", url=f"sqlite:///{tmp_path / 'ghost.db'}"),
    ]
    warehouse.insert((1, "acme", 1.0, "2026-11-26"))
    pollers = sql_pollers(entries, landed.ingest, landed.store)
    for poller in pollers:
        await poller.start()
    try:
        await landed.wait_for(1)
        errors = [poller.stats()["error"] for poller in pollers]
    finally:
        for poller in pollers:
            await poller.stop()
    assert errors[0] is None
    assert errors[1] == (
        "watch_sql[orders]: name 'orders' is used by another watch_sql source; give each its "
        "own `name` (it keys the stored cursor)"
    )
    assert errors[2].startswith("watch_sql[ghost].url:")


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (
            "NULL",
            "cursor: the query returns rows whose at is NULL; leave them out (AND at IS NOT NULL)",
        ),
        (
            "x'00'",
            "cursor: a cursor of type bytes cannot be stored; use a number, text, date or "
            "timestamp column",
        ),
    ],
)
async def test_a_cursor_column_that_cannot_be_a_cursor_is_named(
    warehouse: Warehouse, landed: Landed, column: str, message: str
) -> None:
    warehouse.insert((1, "acme", 1.0, "2026-11-26"))
    query = f"SELECT id, {column} AS at FROM orders WHERE id > :cursor"
    async with polling(orders_entry(warehouse.url, query=query, cursor="at"), landed) as poller:
        assert poller.stats()["error"] == f"watch_sql[warehouse].{message}"


async def test_an_unforeseen_failure_is_reported_and_retried(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    store = Store(tmp_path / "closed.db")
    landed = Landed(store)
    warehouse.insert((1, "acme", 1.0, "2026-11-26"))
    async with polling(orders_entry(warehouse.url, start=0), landed) as poller:
        assert poller.stats()["error"] == (
            "watch_sql[warehouse]: StoreClosed: the store is not open"
        )
        await store.open()
        try:
            poller.poll_now()
            await landed.wait_for(1)
            await until(lambda: _healthy(poller), what="the error cleared")
        finally:
            await store.close()
