"""The shipped sample: a row lands in `orders` with amount > 1000 -> `flag_large_order` runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
from polling import until

from evtui.engine import Engine
from evtui.filters import EventFilter
from evtui.flows.records import FlowRun
from evtui.settings import Settings
from evtui.sources.postgres.install import install_triggers

SAMPLES = Path(__file__).parents[2] / "sample_flows"


async def test_only_the_large_order_is_flagged(tmp_path: Path, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer text, amount numeric)")
        install_triggers(conn, ["orders"])
    settings = Settings(
        db=tmp_path / "e.db",
        port=0,
        flows=[SAMPLES],
        automations=[SAMPLES / "automations"],
        watch_db=[{"url": pg_url, "tables": "orders"}],
    )
    async with Engine(settings, serve_http=False) as engine:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("INSERT INTO orders (customer, amount) VALUES ('bob', 999.5)")
            conn.execute("INSERT INTO orders (customer, amount) VALUES ('ada', 1500)")

        async def finished() -> list[FlowRun]:
            runs = await engine.runner.runs.list_runs(flow="flag_large_order", limit=5)
            return runs if runs and all(run.is_final for run in runs) else []

        (run,) = await until(finished, 60.0, "the flag_large_order run")
        assert run.state == "Completed", run.state_message
        assert run.parameters["order"] == {"id": 2, "customer": "ada", "amount": 1500}
        assert run.parameters["resource"].endswith("/public.orders/2")

        flagged = EventFilter.model_validate({"event": {"name": ["custom.order_flagged"]}})
        (event,), _ = await engine.store.query_events(flagged, limit=5)
        assert event.event.resource_id == run.parameters["resource"]
    with sqlite3.connect("warehouse.db") as db:  # the flow's default, in the working folder
        assert db.execute("SELECT amount, customer FROM flagged_orders").fetchall() == [
            (1500.0, "ada")
        ]
