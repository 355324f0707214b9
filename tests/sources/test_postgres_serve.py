"""`evtui serve --watch-db URL --tables orders`, as a user runs it: changes made while it is
down arrive when it starts, and `GET /api/stats` shows the source's lag and deliveries."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from evtui.client import ApiClient
from evtui.sources.postgres.install import install_triggers
from tests.conftest import start_serve


def wait_for(check: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
    return value


def test_serve_delivers_the_backlog_and_reports_it_in_stats(tmp_path: Path, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, amount numeric)")
        install_triggers(conn, ["orders"])
        conn.execute("INSERT INTO orders (amount) SELECT n FROM generate_series(1, 100) n")
    server = start_serve(tmp_path / "e.db", "--watch-db", pg_url, "--tables", "orders")
    try:
        with httpx.Client(base_url=server.api_url, timeout=10) as client:

            def source() -> dict[str, Any] | None:
                (stats,) = client.get("/stats").json()["db_sources"]
                return stats if stats["delivered"] == 100 and stats["lag"] == 0 else None

            stats = wait_for(source, "100 rows delivered")
            assert stats["kind"] == "postgresql" and stats["error"] is None
        with ApiClient(server.api_url, None) as api:
            query = {"event": {"name": ["db.row.inserted"]}, "order": "ASC"}
            events = list(api.filter_events(query))
        assert [e["payload"]["row"]["amount"] for e in events] == list(range(1, 101))
    finally:
        assert server.stop() == 0
