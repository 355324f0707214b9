"""Row changes in a real PostgreSQL server reach a real engine's store: none lost, in order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from polling import until

from evtui.engine import Engine
from evtui.events import Event
from evtui.settings import Settings
from evtui.sources.postgres.install import install_triggers
from evtui.sources.postgres.source import PostgresSource

ORDERS = "CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, amount numeric)"


pytestmark = pytest.mark.usefixtures("quick_pg_retries")


@pytest.fixture
def orders(pg_url: str) -> str:
    """A database whose `orders` table carries evtui's trigger."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(ORDERS)
        install_triggers(conn, ["orders"])
    return pg_url


def sql(url: str, statement: str, params: Any = None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement, params)


def scalar(url: str, query: str) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return row[0]


@contextlib.asynccontextmanager
async def watching(
    db: Path, url: str, tables: str = "orders", batch_size: int = 2000
) -> AsyncIterator[Engine]:
    entry = {"url": url, "tables": tables, "name": "shop", "batch_size": batch_size}
    settings = Settings(db=db, port=0, watch_db=[entry])
    async with Engine(settings, serve_http=False) as engine:
        yield engine


async def stored(engine: Engine, count: int, timeout: float = 15.0) -> list[Event]:
    """Wait until `count` events are stored; return them in commit order."""
    await holds(lambda: engine.store.stats.total >= count, f"{count} stored events", timeout)
    return [row.event for row in await engine.store.events_after(0, count + 10)]


def db_stats(engine: Engine) -> dict[str, Any]:
    (stats,) = engine.stats()["db_sources"]
    return stats


async def test_insert_update_delete_become_events_on_the_row(tmp_path: Path, orders: str) -> None:
    async with watching(tmp_path / "e.db", orders) as engine:
        sql(orders, "INSERT INTO orders (customer, amount) VALUES ('ada', 1500)")
        sql(orders, "UPDATE orders SET amount = 2000 WHERE id = 1")
        sql(orders, "DELETE FROM orders WHERE id = 1")
        inserted, updated, deleted = await stored(engine, 3)

        assert [e.event for e in (inserted, updated, deleted)] == [
            "db.row.inserted",
            "db.row.updated",
            "db.row.deleted",
        ]
        database = pg_database(orders)
        assert inserted.resource == {
            "prefect.resource.id": f"postgresql://localhost/{database}/public.orders/1",
            "prefect.resource.name": "public.orders/1",
            "evtui.db.host": "localhost",
            "evtui.db.database": database,
            "evtui.db.schema": "public",
            "evtui.db.table": "orders",
            "evtui.db.operation": "insert",
            "evtui.db.key": "1",
        }
        assert inserted.payload["row"] == {"id": 1, "customer": "ada", "amount": 1500}
        assert inserted.payload["changed"] == ["id", "customer", "amount"]
        assert updated.payload["row"]["amount"] == 2000
        assert updated.payload["changed"] == ["amount"]
        assert updated.payload["old_key"] == {"id": 1}
        assert "old_key" not in inserted.payload and "old_key" not in deleted.payload
        assert deleted.payload["row"] == {"id": 1, "customer": "ada", "amount": 2000}
        assert not any(e.payload["row_truncated"] for e in (inserted, updated, deleted))
        await holds(lambda: db_stats(engine)["lag"] == 0, "lag 0")
        assert db_stats(engine) | {"tables": None} == {
            "name": "shop",
            "kind": "postgresql",
            "lag": 0,
            "delivered": 3,
            "error": None,
            "connected": True,
            "tables": None,
        }
        assert scalar(orders, "SELECT count(*) FROM evtui.outbox") == 0


async def test_a_row_over_the_cap_is_delivered_as_its_key(tmp_path: Path, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE lines (order_id int, line int, note text, PRIMARY KEY (order_id, line))"
        )
        install_triggers(conn, ["lines"], row_cap=100)
    async with watching(tmp_path / "e.db", pg_url, "lines") as engine:
        sql(pg_url, "INSERT INTO lines VALUES (7, 1, 'short'), (7, 2, %s)", ("x" * 200,))
        short, long = await stored(engine, 2)
    assert short.payload["row"] == {"order_id": 7, "line": 1, "note": "short"}
    assert long.payload["row"] == {"order_id": 7, "line": 2}
    assert long.payload["row_truncated"] is True
    assert long.resource["evtui.db.key"] == "order_id=7,line=2"
    assert long.resource["prefect.resource.id"].endswith("/public.lines/order_id=7,line=2")


async def test_changes_made_while_evtui_is_stopped_arrive_when_it_starts(
    tmp_path: Path, orders: str
) -> None:
    db = tmp_path / "e.db"
    async with watching(db, orders) as engine:
        sql(orders, "INSERT INTO orders (customer, amount) VALUES ('first', 1)")
        await stored(engine, 1)
    with psycopg.connect(orders, autocommit=True) as conn:
        for n in range(100):  # 100 transactions
            conn.execute("INSERT INTO orders (customer, amount) VALUES (%s, %s)", (f"c{n}", n))
    assert scalar(orders, "SELECT count(*) FROM evtui.outbox") == 100
    async with watching(db, orders) as engine:
        events = await stored(engine, 101)
        assert [e.payload["row"]["customer"] for e in events[1:]] == [f"c{n}" for n in range(100)]
        await holds(lambda: db_stats(engine)["lag"] == 0, "lag 0")
    assert scalar(orders, "SELECT count(*) FROM evtui.outbox") == 0


async def test_ten_thousand_inserts_in_one_transaction_arrive_in_commit_order(
    tmp_path: Path, orders: str
) -> None:
    async with watching(tmp_path / "e.db", orders) as engine:
        sql(
            orders,
            "INSERT INTO orders (customer, amount) "
            "SELECT 'bulk', n FROM generate_series(1, 10000) n",
        )
        events = await stored(engine, 10_000, timeout=30)
        assert len(events) == 10_000
        assert [e.payload["row"]["amount"] for e in events] == list(range(1, 10_001))
        assert len({e.id for e in events}) == 10_000
        await holds(lambda: db_stats(engine)["lag"] == 0, "lag 0")
        assert db_stats(engine)["delivered"] == 10_000


async def test_a_connection_killed_mid_stream_reconnects_and_resumes_from_the_outbox(
    tmp_path: Path, orders: str
) -> None:
    async with watching(tmp_path / "e.db", orders, batch_size=50) as engine:
        sql(orders, "INSERT INTO orders (customer) SELECT 'c' || n FROM generate_series(1, 3000) n")
        await holds(lambda: db_stats(engine)["delivered"] >= 100, "the stream under way")
        killed = scalar(
            orders,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'evtui shop'",
        )
        assert killed == 1
        sql(orders, "INSERT INTO orders (customer) VALUES ('after')")
        events = await stored(engine, 3001)
        expected = [*(f"c{n}" for n in range(1, 3001)), "after"]
        assert [e.payload["row"]["customer"] for e in events] == expected
        await holds(lambda: db_stats(engine)["error"] is None, "reconnected")
        await holds(lambda: db_stats(engine)["lag"] == 0, "lag 0")


async def test_a_crash_between_store_and_delete_resends_and_the_store_keeps_one(
    tmp_path: Path, orders: str
) -> None:
    """The connection dies right after the store committed, before the outbox delete."""
    async with Engine(Settings(db=tmp_path / "e.db", port=0), serve_http=False) as engine:
        from evtui.sources.postgres.spec import DbWatchSpec

        outcomes = []

        async def ingest_then_cut(events: list[Event]) -> None:
            outcomes.append(await engine.ingest(events))
            if len(outcomes) == 1:
                sql(
                    orders,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'evtui shop'",
                )

        sql(orders, "INSERT INTO orders (customer) SELECT 'c' || n FROM generate_series(1, 20) n")
        source = PostgresSource(
            DbWatchSpec(url=orders, tables="orders", name="shop"), ingest_then_cut
        )
        await source.start()
        try:
            await holds(lambda: len(outcomes) >= 2, "the batch sent again")
            await holds(lambda: source.stats()["lag"] == 0, "outbox emptied")
        finally:
            await source.stop()
        assert [(o.stored, o.duplicates) for o in outcomes] == [(20, 0), (0, 20)]
        assert engine.store.stats.total == 20


async def test_only_the_watched_tables_are_delivered(tmp_path: Path, orders: str) -> None:
    with psycopg.connect(orders, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text)")
        install_triggers(conn, ["customers"])
    async with watching(tmp_path / "e.db", orders) as engine:
        sql(orders, "INSERT INTO customers VALUES (1, 'ada')")
        sql(orders, "INSERT INTO orders (customer) VALUES ('ada')")
        (event,) = await stored(engine, 1)
        assert event.resource["evtui.db.table"] == "orders"
        await holds(lambda: db_stats(engine)["delivered"] == 1, "one delivered")
    assert scalar(orders, "SELECT count(*) FROM evtui.outbox WHERE table_name = 'customers'") == 1


def pg_database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def holds(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    async def poll() -> bool:
        return check()

    await until(poll, timeout, what)


async def test_a_transaction_committing_after_a_later_one_is_still_delivered(
    tmp_path: Path, orders: str
) -> None:
    """Outbox ids are taken at insert time, so a slow transaction's lower id shows up late."""
    async with watching(tmp_path / "e.db", orders) as engine:
        with psycopg.connect(orders) as slow:
            slow.execute("INSERT INTO orders (customer) VALUES ('slow')")
            sql(orders, "INSERT INTO orders (customer) VALUES ('fast')")
            (fast,) = await stored(engine, 1)
            assert fast.payload["row"]["customer"] == "fast"
        events = await stored(engine, 2)
        assert [e.payload["row"]["customer"] for e in events] == ["fast", "slow"]
        assert [e.payload["outbox_id"] for e in events] == [2, 1]


async def test_stop_lets_the_batch_being_stored_finish_and_deletes_its_rows(
    orders: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evtui.sources.postgres import source as source_module
    from evtui.sources.postgres.spec import DbWatchSpec

    monkeypatch.setattr(source_module, "POLL_SECONDS", 3600.0)  # no help from timeouts
    monkeypatch.setattr(source_module, "STOP_SECONDS", 3600.0)
    entered, release = asyncio.Event(), asyncio.Event()
    stored_events: list[Event] = []

    async def slow_ingest(events: list[Event]) -> None:
        entered.set()
        await release.wait()
        stored_events.extend(events)

    sql(orders, "INSERT INTO orders (customer) SELECT 'c' || n FROM generate_series(1, 5) n")
    source = PostgresSource(DbWatchSpec(url=orders, tables="orders"), slow_ingest)
    await source.start()
    await asyncio.wait_for(entered.wait(), 15)
    stopping = asyncio.create_task(source.stop())
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(stopping, 15)
    assert len(stored_events) == 5
    assert scalar(orders, "SELECT count(*) FROM evtui.outbox") == 0
