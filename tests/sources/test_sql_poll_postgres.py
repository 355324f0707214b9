"""A polled PostgreSQL source against the suite's real server: timestamp cursors kept with
their type across restarts, `%` and `::` in queries, rights and lost connections named."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from polling import until
from sql_poll_helpers import Landed, polling

from evtui.sources.sql_poll import SqlPoller

ORDERS = """
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SqlPoller, "first_retry", 0.05)
    monkeypatch.setattr(SqlPoller, "max_retry", 0.2)


@pytest.fixture
def shop(pg_url: str) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(ORDERS)
    return pg_url


def sql(url: str, statement: str, *params: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, params or None)


def entry(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "url": url,
        "name": "orders",
        "query": "SELECT * FROM orders WHERE updated_at > :cursor",
        "cursor": "updated_at",
        "key": "id",
        "every": "50ms",
        **overrides,
    }


async def _error(poller: SqlPoller, part: str | None) -> bool:
    error = poller.stats()["error"]
    return error is None if part is None else part in (error or "")


async def test_new_rows_become_events_and_a_restart_resumes_at_the_stored_timestamp(
    shop: str, landed: Landed
) -> None:
    sql(shop, "INSERT INTO orders (customer, amount) VALUES ('old', 1)")
    async with polling(entry(shop), landed) as poller:
        sql(shop, "INSERT INTO orders (customer, amount) VALUES ('acme', 1500.50), ('b', 20)")
        events = await landed.wait_for(2)
        assert poller.stats()["error"] is None
    sql(shop, "INSERT INTO orders (customer, amount) VALUES ('while stopped', 3)")
    async with polling(entry(shop), landed):
        events = await landed.wait_for(3)
    assert [e.resource["evtui.db.key"] for e in events] == ["2", "3", "4"]
    first = events[0]
    assert first.resource["prefect.resource.id"] == "postgresql://localhost/{}/orders/2".format(
        first.resource["evtui.db.database"]
    )
    assert first.resource["evtui.db.host"] == "localhost"
    assert first.resource["evtui.db.kind"] == "postgresql"
    assert first.payload["row"]["amount"] == 1500.5
    assert first.payload["row"]["customer"] == "acme"
    assert first.payload["cursor"] == first.payload["row"]["updated_at"]
    assert sum(o.duplicates for o in landed.outcomes) == 0


async def test_percent_signs_and_casts_in_the_query_reach_the_server(
    shop: str, landed: Landed
) -> None:
    query = (
        "SELECT id, customer, amount::float8 AS amount FROM orders "
        "WHERE customer LIKE 'a%' AND id > :cursor"
    )
    async with polling(entry(shop, query=query, cursor="id", start=0), landed):
        sql(
            shop, "INSERT INTO orders (customer, amount) VALUES ('acme', 1), ('zeta', 2), ('ax', 3)"
        )
        events = await landed.wait_for(2)
    assert [e.payload["row"]["customer"] for e in events] == ["acme", "ax"]


async def test_problems_are_named_and_a_killed_connection_is_reopened(
    shop: str, landed: Landed, caplog: pytest.LogCaptureFixture
) -> None:
    async with polling(entry(shop, query="SELECT * FROM ordres WHERE id > :cursor"), landed) as p:
        assert p.stats()["error"] == ('watch_sql[orders].query: relation "ordres" does not exist')
    unreachable = shop.replace("?host=", "?host=/nonexistent")
    async with polling(entry(unreachable), landed) as p:
        assert p.stats()["error"].startswith(
            f"watch_sql[orders].url: cannot connect to {unreachable}: connection"
        )
    sql(shop, "CREATE ROLE poll_clerk LOGIN")  # roles are the cluster's: a name of this test's
    clerk = re.sub(r"^postgresql://[^@]*@", "postgresql://poll_clerk@", shop)
    async with polling(entry(clerk), landed) as p:
        assert p.stats()["error"] == ("watch_sql[orders].query: permission denied for table orders")
        sql(shop, "GRANT SELECT ON orders TO poll_clerk")
        await until(lambda: _error(p, None), what="the grant noticed")

    async with polling(entry(shop), landed) as poller:
        sql(
            shop,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND datname = current_database()",
        )
        sql(shop, "INSERT INTO orders (customer, amount) VALUES ('after', 1)")
        (event,) = await landed.wait_for(1)
        await until(lambda: _error(poller, None), what="the error cleared")
    assert event.payload["row"]["customer"] == "after"
    lost = f"watch_sql[orders].url: lost {shop}: terminating connection due to administrator"
    assert any(r.getMessage().startswith(lost) for r in caplog.records)


async def test_rows_sharing_a_timestamp_beyond_one_batch_all_arrive(
    shop: str, landed: Landed
) -> None:
    sql(
        shop,
        "INSERT INTO orders (customer, amount, updated_at) SELECT 'c' || g, g, "
        "'2026-11-26T10:00:00Z'::timestamptz + (g / 4) * interval '1 s' "
        "FROM generate_series(1, 9) g",
    )  # updated_at: 3 rows at :00, 4 at :01, 2 at :02
    async with polling(entry(shop, start="-infinity", batch_size=2), landed):
        events = await landed.wait_for(9)
    assert sorted(int(e.resource["evtui.db.key"]) for e in events) == list(range(1, 10))
