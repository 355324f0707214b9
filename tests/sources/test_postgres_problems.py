"""Bad input for `--watch-db`: one clear message naming the setting or table, in `stats()` and the
log, while evtui and its other sources keep running; a fixed database is picked up by itself."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest
from polling import until

from evtui.cli import _engine_settings, build_parser
from evtui.engine import Engine
from evtui.settings import Settings, SettingsError, load_settings
from evtui.sources.postgres.install import install_triggers

pytestmark = pytest.mark.usefixtures("quick_pg_retries")


def by_name(engine: Engine) -> dict[str, dict[str, Any]]:
    return {stats["name"]: stats for stats in engine.stats()["db_sources"]}


async def test_each_problem_is_named_and_the_healthy_source_keeps_delivering(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE refunds (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE audit (at timestamptz, what text)")
        install_triggers(conn, ["orders"])
    unreachable = pg_url.replace("?host=", "?host=/nonexistent")
    watch_db = [
        {"name": "down", "url": unreachable, "tables": "orders"},
        {"name": "no-trigger", "url": pg_url, "tables": "orders,refunds"},
        {"name": "no-table", "url": pg_url, "tables": "ordres"},
        {"name": "no-key", "url": pg_url, "tables": "audit"},
        {"name": "good", "url": pg_url, "tables": "orders"},
    ]
    caplog.set_level(logging.ERROR, "evtui.sources.postgres")
    settings = Settings(db=tmp_path / "e.db", port=0, watch_db=watch_db)
    async with Engine(settings, serve_http=False) as engine:
        stats = by_name(engine)
        assert "down: cannot connect" in stats["down"]["error"]
        assert stats["no-trigger"]["error"] == (
            "watch_db no-trigger: table public.refunds has no evtui trigger: run `evtui db "
            f"install-triggers {pg_url} --tables public.refunds`"
        )
        assert stats["no-trigger"]["connected"] is True  # orders is delivered meanwhile
        assert "table 'ordres' does not exist" in stats["no-table"]["error"]
        assert stats["no-key"]["error"] == (
            "watch_db no-key: table public.audit has no primary key (each change is named by its "
            f"key): add one, then run `evtui db install-triggers {pg_url} --tables public.audit`"
        )
        assert stats["good"]["error"] is None
        assert [stats[name]["lag"] for name in ("down", "no-table", "no-key")] == [None] * 3
        logged = [r.getMessage() for r in caplog.records]
        assert any("table public.refunds has no evtui trigger" in line for line in logged)

        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("INSERT INTO orders VALUES (1)")

        async def delivered() -> bool:
            return sum(by_name(engine)[n]["delivered"] for n in ("good", "no-trigger")) >= 1

        await until(delivered, what="the sources with a usable table delivering")

        with psycopg.connect(pg_url, autocommit=True) as conn:
            install_triggers(conn, ["refunds"])

            conn.execute("INSERT INTO refunds VALUES (1)")

        async def fixed() -> bool:
            stored = await engine.store.events_after(0, 10)
            tables = {row.event.resource["evtui.db.table"] for row in stored}
            return "refunds" in tables and by_name(engine)["no-trigger"]["error"] is None

        await until(fixed, what="the refunds table picked up once its trigger is installed")


async def test_a_database_without_the_outbox_says_how_to_install_it(
    tmp_path: Path, pg_url: str
) -> None:
    settings = Settings(db=tmp_path / "e.db", port=0, watch_db=[{"url": pg_url, "tables": "t"}])
    async with Engine(settings, serve_http=False) as engine:
        (stats,) = engine.stats()["db_sources"]
    assert stats["error"].endswith(
        f"has no evtui outbox: run `evtui db install-triggers {pg_url} --tables t`"
    )
    assert stats["connected"] is False


async def test_a_role_without_rights_on_the_outbox_is_told_what_to_grant(
    tmp_path: Path, pg_url: str, pg_server: Any
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
        install_triggers(conn, ["orders"])
        conn.execute(
            "DO $$ BEGIN CREATE ROLE reader LOGIN; EXCEPTION WHEN duplicate_object "
            "THEN NULL; END $$"
        )
    reader = pg_url.replace(f"{pg_server.user}@", "reader@")
    watch_db = [{"url": reader, "tables": "orders", "name": "reader"}]
    settings = Settings(db=tmp_path / "e.db", port=0, watch_db=watch_db)
    async with Engine(settings, serve_http=False) as engine:
        (stats,) = engine.stats()["db_sources"]
        assert stats["error"] == (
            "watch_db reader: role reader may not read and delete evtui.outbox: GRANT USAGE ON "
            "SCHEMA evtui TO reader; GRANT SELECT, DELETE ON evtui.outbox TO reader"
        )
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("GRANT USAGE ON SCHEMA evtui TO reader")
            conn.execute("GRANT SELECT, DELETE ON evtui.outbox TO reader")
            conn.execute("INSERT INTO orders VALUES (1)")

        async def delivered() -> bool:
            return engine.stats()["db_sources"][0]["delivered"] == 1

        await until(delivered, what="delivery once granted")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"url": "postgresql://h/db"}, "watch_db[0].tables: Field required"),
        ({"url": "postgresql://h/db", "tables": ""}, "watch_db[0].tables: name at least one"),
        ({"url": "postgresql://h/db", "tables": "a;drop"}, "'a;drop' is not a table name"),
        ({"url": "mysql://h/db", "tables": "a"}, "watch_db[0].url: 'mysql://h/db' is not a"),
        ({"url": "postgresql://h/db", "tables": "a", "tabels": "b"}, "tabels: unknown key"),
    ],
)
def test_a_bad_entry_stops_evtui_before_it_starts(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Engine(Settings(db=tmp_path / "e.db", watch_db=[entry]))
    assert message in str(raised.value)


def test_flags_pair_each_watch_db_with_its_tables_and_the_config_file_has_tables(
    tmp_path: Path,
) -> None:
    argv = ["serve", "--watch-db", "postgresql://a/x", "--tables", "orders"]
    argv += ["--watch-db", "postgresql://b/y", "--tables", "s.t,u"]
    settings = _engine_settings(build_parser().parse_args(argv))
    assert settings.watch_db == [
        {"url": "postgresql://a/x", "tables": "orders"},
        {"url": "postgresql://b/y", "tables": "s.t,u"},
    ]
    config = tmp_path / "config.toml"
    config.write_text(
        '[[watch_db]]\nurl = "postgresql://a/x"\ntables = ["orders"]\nname = "shop"\n'
    )
    settings = _engine_settings(build_parser().parse_args(["serve", "--config", str(config)]))
    assert settings.watch_db == [{"url": "postgresql://a/x", "tables": ["orders"], "name": "shop"}]
    environ = {"EVTUI_WATCH_DB": '[{"url": "postgresql://c/z", "tables": "t"}]'}
    assert load_settings(environ=environ).watch_db == [{"url": "postgresql://c/z", "tables": "t"}]


def test_watch_db_without_tables_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from evtui.cli import main

    assert main(["serve", "--watch-db", "postgresql://a/x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "evtui: error: --watch-db: give --tables A,B after each --watch-db URL"
    )
