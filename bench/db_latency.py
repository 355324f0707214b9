"""PostgreSQL source benchmark: row committed -> event stored, and a 10,000-row burst.

    python bench/db_latency.py                       # a throwaway server, 300 rows, 10,000 burst
    python bench/db_latency.py --url postgresql://me@localhost/scratch --rows 1000

Without `--url`, starts a throwaway PostgreSQL server (Debian's binaries, as the tests do:
`tests/sources/pg_server.py`). Creates the table `evtui_bench`, installs evtui's triggers on
it, and runs a real engine (SQLite in a temporary directory, no HTTP) watching it:

- latency: `--rows` single-row transactions, one every `--gap` seconds, from another thread;
  each is timed from the moment its commit returned to the store's commit of its event (the
  store's commit listener, same process, same clock);
- burst: 10,000 rows inserted in one transaction; events/s from its commit to the last event
  stored.

Prints one line; exit status 1 if an event is missing or the p50 target (< 50 ms) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.sources.postgres.install import install_triggers, uninstall_triggers
from evtui.store.rows import StoredEvent

from figures import emit, ms, note, percentile, target
from target import BenchError, run_script

TABLE = "evtui_bench"
BURST = 10_000
P50_TARGET_MS = 50.0
TIMEOUT_SECONDS = 120.0


def main() -> int:
    args = _parse_args()
    return run_script("bench/db_latency.py", lambda: _with_server(args))


def _with_server(args: argparse.Namespace) -> int:
    if args.url:
        return asyncio.run(_run(args.url, args.rows, args.gap))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sources"))
    from pg_server import PostgresServer, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        raise BenchError(f"no PostgreSQL server to start ({reason}); or pass --url")
    server = PostgresServer.start()
    try:
        return asyncio.run(_run(server.url, args.rows, args.gap))
    finally:
        server.stop()


class Arrivals:
    """When each bench row's event was committed to the store (`perf_counter`)."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.changed = asyncio.Event()

    def __call__(self, batch: list[StoredEvent]) -> None:
        now = time.perf_counter()
        for stored in batch:
            payload = stored.event.payload
            if payload.get("table") == f"public.{TABLE}":
                self.at[payload["key"]["id"]] = now
        self.changed.set()

    async def wait_for(self, ids: set[int] | range) -> float:
        deadline = time.perf_counter() + TIMEOUT_SECONDS
        while not all(i in self.at for i in ids):
            if time.perf_counter() > deadline:
                missing = sum(i not in self.at for i in ids)
                raise BenchError(f"{missing} of {len(ids)} rows never arrived as events")
            self.changed.clear()
            await asyncio.wait([asyncio.create_task(self.changed.wait())], timeout=1.0)
        return max(self.at[i] for i in ids)


async def _run(url: str, rows: int, gap: float) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, n int, note text)")
        install_triggers(conn, [TABLE])
    try:
        return await _measure(url, rows, gap)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            uninstall_triggers(conn, [TABLE])
            conn.execute(f"DROP TABLE {TABLE}")


async def _measure(url: str, rows: int, gap: float) -> int:
    with tempfile.TemporaryDirectory(prefix="evtui-bench-") as scratch:
        watch = [{"url": url, "tables": TABLE, "name": "bench"}]
        settings = Settings(db=Path(scratch) / "db.db", port=0, watch_db=watch)
        async with Engine(settings, serve_http=False) as engine:
            arrivals = Arrivals()
            engine.store.add_commit_listener(arrivals)
            committed = await asyncio.to_thread(_single_rows, url, rows, gap)
            await arrivals.wait_for(set(committed))
            latencies = [(arrivals.at[i] - at) * 1000 for i, at in committed.items()]
            note(f"{rows} single-row commits measured; starting the {BURST:,}-row burst")
            burst_ids, burst_committed = await asyncio.to_thread(_burst, url)
            last = await arrivals.wait_for(burst_ids)
            (source,) = engine.db_sources
            while source.stats()["delivered"] < rows + BURST:  # the last outbox delete
                await asyncio.sleep(0.01)
            stats = source.stats()
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    seconds = last - burst_committed
    met = p50 < P50_TARGET_MS
    emit(
        f"db latency: row committed -> event stored p50 {ms(p50)}, p95 {ms(p95)}, "
        f"max {ms(max(latencies))} (n={rows}, gap {gap:g} s; {target(met, '< 50 ms')}); "
        f"{BURST:,}-row transaction: {BURST / seconds:,.0f} events/s ({seconds:.2f} s to the "
        f"last event; {stats['delivered']:,} delivered, lag {stats['lag']})"
    )
    return 0 if met else 1


def _single_rows(url: str, rows: int, gap: float) -> dict[int, float]:
    """Insert one row per transaction; the `perf_counter` at which each commit returned."""
    committed: dict[int, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(rows):
            found: Any = conn.execute(
                f"INSERT INTO {TABLE} (n, note) VALUES (%s, 'single') RETURNING id", (n,)
            ).fetchone()
            committed[found[0]] = time.perf_counter()
            threading.Event().wait(gap)
    return committed


def _burst(url: str) -> tuple[range, float]:
    with psycopg.connect(url) as conn:
        first: Any = conn.execute(
            f"INSERT INTO {TABLE} (n, note) SELECT g, 'burst' FROM generate_series(1, %s) g "
            "RETURNING id",
            (BURST,),
        ).fetchall()
        conn.commit()
        committed = time.perf_counter()
    ids = [row[0] for row in first]
    return range(min(ids), max(ids) + 1), committed


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing database (default: a throwaway server)")
    parser.add_argument("--rows", type=int, default=300, help="single-row commits (default 300)")
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between them (0.01)")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
