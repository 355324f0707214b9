"""Polled sources inside evtui: from the command line and the config file to stored events and
`GET /api/stats`, with a broken source beside a working one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from polling import until
from sql_poll_helpers import Warehouse, orders_entry

from evtui.automations.models import AutomationCreate
from evtui.cli import _engine_settings, build_parser
from evtui.engine import Engine
from evtui.settings import Settings, load_settings
from evtui.sources.sql_poll import SqlPollSpec
from tests.conftest import start_serve


def headless_engine(tmp_path: Path, watch_sql: list[dict[str, Any]]) -> Engine:
    """An engine without HTTP or spare interpreters, polling `watch_sql`."""
    settings = Settings(db=tmp_path / "evtui.db", port=0, spare_children=0, watch_sql=watch_sql)
    return Engine(settings, serve_http=False)


def test_each_watch_sql_flag_fills_the_source_before_it() -> None:
    args = build_parser().parse_args(
        [
            *(
                "serve",
                "--watch-sql",
                "sqlite:///w.db",
                "--query",
                "SELECT * FROM t WHERE id > :cursor",
            ),
            *("--cursor", "id", "--every", "2s", "--watch-sql", "postgresql://ann@db/shop"),
            *("--query", "SELECT * FROM u WHERE at > :cursor", "--cursor", "at", "--key", "a,b"),
            *("--name", "u", "--event", "shop.u.changed", "--start", "2026-01-01"),
            *("--watch-sql", "sqlite:///x.db", "--start", "0"),
            *("--watch-sql", "sqlite:///y.db", "--start", "0.5"),
        ]
    )
    assert _engine_settings(args).watch_sql == [
        {
            "url": "sqlite:///w.db",
            "query": "SELECT * FROM t WHERE id > :cursor",
            "cursor": "id",
            "every": "2s",
        },
        {
            "url": "postgresql://ann@db/shop",
            "query": "SELECT * FROM u WHERE at > :cursor",
            "cursor": "at",
            "key": "a,b",
            "name": "u",
            "event": "shop.u.changed",
            "start": "2026-01-01",
        },
        {"url": "sqlite:///x.db", "start": 0},
        {"url": "sqlite:///y.db", "start": 0.5},
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--cursor", "id"], "--cursor: give it after the --watch-sql URL it belongs to"),
        (
            ["serve", "--watch-sql", "sqlite:///w.db", "--every", "1s", "--every", "2s"],
            "--every: given twice for --watch-sql sqlite:///w.db",
        ),
    ],
)
def test_a_flag_without_its_source_is_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert message in capsys.readouterr().err


def test_watch_sql_tables_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[watch_sql]]\nurl = "sqlite:///w.db"\nname = "orders"\n'
        'query = "SELECT * FROM orders WHERE at > :cursor"\ncursor = "at"\nevery = "10s"\n'
        "start = 2026-01-01T00:00:00Z\n"
    )
    (entry,) = load_settings(config_file=config).watch_sql
    spec = SqlPollSpec.parse(entry, 0)
    assert (spec.name, spec.every) == ("orders", 10.0)
    assert spec.start == datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_engine_runs_a_good_source_beside_a_broken_one(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.db")
    watch_sql = [
        orders_entry(warehouse.url, name="orders"),
        orders_entry(warehouse.url, name="broken", cursor="updated"),
    ]
    async with headless_engine(tmp_path, watch_sql) as engine:
        warehouse.insert((1, "acme", 1500.0, "2026-11-26"))

        async def delivered() -> list[dict]:
            sources = engine.stats()["db_sources"]
            return sources if sources[0]["delivered"] == 1 else []

        orders, broken = await until(delivered, what="the row delivered")
        stored = await engine.store.latest(10)
    assert [s.event.resource["evtui.db.key"] for s in stored] == ["1"]
    assert orders["error"] is None and orders["lag"] == 0 and orders["kind"] == "sqlite poll"
    assert broken["error"] == (
        "watch_sql[broken].cursor: column 'updated' is not in the query's result "
        "(it has id, customer, amount, updated_at)"
    )
    assert broken["delivered"] == 0


async def test_evtui_serve_polls_and_shows_the_source_in_stats(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "warehouse.db")
    server = start_serve(
        tmp_path / "evtui.db",
        *("--watch-sql", warehouse.url, "--query", "SELECT * FROM orders WHERE id > :cursor"),
        *("--cursor", "id", "--every", "100ms", "--name", "orders"),
    )
    try:
        warehouse.insert((7, "acme", 1500.0, "2026-11-26"))
        async with httpx.AsyncClient(base_url=server.api_url) as client:

            async def stored() -> list[dict]:
                found = await client.post("/events/filter", json={"limit": 10})
                return found.json()["events"]

            async def sources() -> list[dict]:
                found = (await client.get("/stats")).json()["db_sources"]
                return found if found[0]["delivered"] else []

            (event,) = await until(stored, what="the polled row stored")
            (source,) = await until(sources, what="the delivery counted")
    finally:
        assert server.stop() == 0
    assert event["event"] == "db.row.polled"
    assert event["resource"]["prefect.resource.id"].endswith("/orders/7")
    assert event["payload"]["row"]["amount"] == 1500.0
    assert (source["name"], source["delivered"], source["error"]) == ("orders", 1, None)


async def test_an_automation_matches_polled_rows_by_source_and_payload(tmp_path: Path) -> None:
    """The sample's "orders over 1000" automation, on a polled source instead of triggers."""
    warehouse = Warehouse(tmp_path / "warehouse.db")
    large_orders = {
        "name": "flag large orders",
        "trigger": {
            "type": "event",
            "posture": "Reactive",
            "expect": ["db.row.polled"],
            "match": {"evtui.db.source": "orders"},
            "match_payload": {"row.amount": {">": 1000}},
            "threshold": 1,
            "within": 0,
        },
        "actions": [{"type": "do-nothing"}],
    }
    async with headless_engine(tmp_path, [orders_entry(warehouse.url, name="orders")]) as engine:
        automation = await engine.automations.create(AutomationCreate.model_validate(large_orders))
        warehouse.insert((1, "bob", 250.0, "2026-11-26"), (2, "ada", 1500.0, "2026-11-26"))

        async def fired() -> list:
            return await engine.actions.firings.firings_for_automation(str(automation.id))

        (firing,) = await until(fired, what="the automation fired")
        cause = await engine.store.get_event(str(firing.triggering_event_id))
    assert cause is not None
    assert cause.event.payload["row"]["customer"] == "ada"
