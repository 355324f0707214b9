"""`evtui db install-triggers|uninstall-triggers` against a real server: idempotent, all or none."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from evtui.cli import main
from evtui.sources.postgres.install import (
    InstallError,
    install_triggers,
    triggered_tables,
    uninstall_triggers,
)


@pytest.fixture
def shop(pg_url: str) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, amount numeric)")
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE audit (at timestamptz, what text)")
    return pg_url


def one(url: str, query: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
        return None if row is None else row[0]


def tables_with_trigger(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return triggered_tables(conn)


def test_install_twice_keeps_one_trigger_the_outbox_id_and_undelivered_changes(shop: str) -> None:
    with psycopg.connect(shop, autocommit=True) as conn:
        install_triggers(conn, ["orders"])
        first_id = one(shop, "SELECT id FROM evtui.install")
        conn.execute("INSERT INTO orders (amount) VALUES (5)")
        install_triggers(conn, ["orders", "public.customers"])
    assert tables_with_trigger(shop) == ["public.customers", "public.orders"]
    assert one(shop, "SELECT count(*) FROM pg_trigger WHERE tgname = 'evtui_capture'") == 2
    assert one(shop, "SELECT id FROM evtui.install") == first_id
    assert one(shop, "SELECT count(*) FROM evtui.outbox") == 1


def test_uninstall_removes_everything_and_twice_finds_nothing(shop: str) -> None:
    with psycopg.connect(shop, autocommit=True) as conn:
        install_triggers(conn, ["orders", "customers"])
        conn.execute("INSERT INTO orders (amount) VALUES (5)")
        report = uninstall_triggers(conn)
        assert report.removed_triggers == ["public.customers", "public.orders"]
        assert report.dropped_outbox and report.discarded_changes == 1
        again = uninstall_triggers(conn)
        assert (again.removed_triggers, again.dropped_outbox) == ([], False)
        conn.execute("INSERT INTO orders (amount) VALUES (6)")
    assert one(shop, "SELECT to_regnamespace('evtui')") is None
    assert one(shop, "SELECT count(*) FROM orders") == 2


def test_uninstalling_some_tables_keeps_the_outbox_for_the_others(shop: str) -> None:
    with psycopg.connect(shop, autocommit=True) as conn:
        install_triggers(conn, ["orders", "customers"])
        report = uninstall_triggers(conn, ["customers"])
    assert (report.removed_triggers, report.dropped_outbox) == (["public.customers"], False)
    assert tables_with_trigger(shop) == ["public.orders"]


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (["orders", "audit"], "table public.audit has no primary key"),
        (["orders", "ordres"], "table 'ordres' does not exist"),
    ],
)
def test_a_bad_table_names_itself_and_installs_nothing(
    shop: str, tables: list[str], message: str
) -> None:
    with psycopg.connect(shop, autocommit=True) as conn, pytest.raises(InstallError) as raised:
        install_triggers(conn, tables)
    assert message in str(raised.value)
    assert one(shop, "SELECT to_regnamespace('evtui')") is None
    assert tables_with_trigger(shop) == []


def test_writers_need_no_rights_on_the_outbox_but_installers_need_ownership(
    shop: str, pg_server: Any
) -> None:
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("CREATE ROLE clerk LOGIN")
        conn.execute("GRANT INSERT ON orders TO clerk")
        conn.execute("GRANT USAGE ON SEQUENCE orders_id_seq TO clerk")
        install_triggers(conn, ["orders"])
    clerk = shop.replace(f"{pg_server.user}@", "clerk@")
    with psycopg.connect(clerk, autocommit=True) as conn:
        conn.execute("INSERT INTO orders (amount) VALUES (1)")
        with pytest.raises(InstallError, match=r"cannot add a trigger to table public\.orders"):
            install_triggers(conn, ["orders"])
    assert one(shop, "SELECT count(*) FROM evtui.outbox") == 1


def test_the_commands_print_what_they_did_and_errors_in_one_line(
    shop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "install-triggers", shop, "--tables", "orders,customers"]) == 0
    out = capsys.readouterr().out
    assert "watching public.orders (key id)" in out
    assert "--tables public.orders,public.customers" in out

    assert main(["db", "install-triggers", shop, "--tables", "audit"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evtui: error: ") and "table public.audit has no primary key" in err
    assert "\n" not in err

    assert main(["db", "uninstall-triggers", shop]) == 0
    assert "dropped the schema evtui" in capsys.readouterr().out
    assert main(["db", "uninstall-triggers", shop]) == 0
    assert "nothing to remove" in capsys.readouterr().out

    assert main(["db", "install-triggers", shop, "--tables", "orders", "--row-cap", "2000000"]) == 2
    assert "--row-cap: expected 0 to 1,000,000 bytes" in capsys.readouterr().err

    missing = shop.replace("?host=", "?host=/nonexistent")
    assert main(["db", "install-triggers", missing, "--tables", "orders"]) == 2
    assert "cannot connect to" in capsys.readouterr().err
