"""Polled SQLite source benchmark: what an idle poll costs, and a 10,000-row burst.

    python bench/sql_poll.py                 # 200,000 existing rows, polls every 50 ms
    python bench/sql_poll.py --rows 1000000

A warehouse file with `--rows` orders (no index on `updated_at`, as in many real tables) is
polled with `SELECT * FROM orders WHERE updated_at > :cursor`:

- idle poll: the cost of one poll when nothing changed, skipped by `PRAGMA data_version`,
  against running the query itself (a full scan that finds nothing), each the median of 50;
- latency: 100 single-row commits, 20 ms apart, while a real engine (SQLite store in a
  temporary directory, no HTTP) polls every 50 ms: row committed -> its event stored (so about
  half the poll interval plus the work);
- burst: 10,000 rows inserted in one transaction; events/s from that commit to the last event
  stored.

Prints one line; exit status 1 if a row was delivered more or less than once.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.sources.sql_poll import SqlPollSpec
from evtui.sources.sql_poll.databases import SqliteDatabase
from evtui.store.rows import StoredEvent

from figures import emit, ms, note, percentile
from target import BenchError, run_script

BURST = 10_000
SINGLE_ROWS = 100
SINGLE_GAP = 0.02
SAMPLES = 50
TIMEOUT_SECONDS = 120.0
QUERY = "SELECT * FROM orders WHERE updated_at > :cursor"


def main() -> int:
    args = _parse_args()
    return run_script("bench/sql_poll.py", lambda: asyncio.run(_run(args.rows)))


def _fill(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL, "
            "updated_at TEXT)"
        )
        conn.executemany(
            "INSERT INTO orders (customer, amount, updated_at) VALUES ('acme', ?, ?)",
            ((n * 1.5, f"2026-01-01T00:00:{n:09d}") for n in range(rows)),
        )


def _idle_costs(spec: SqlPollSpec) -> tuple[float, float]:
    """Median seconds of a skipped poll and of running the query past the newest row."""
    db = SqliteDatabase(spec)
    db.open()
    try:
        newest = db.highest()
        db.changed()
        skipped, queried = [], []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            if db.changed():
                raise BenchError("the warehouse changed during the idle measurement")
            skipped.append(time.perf_counter() - started)
            started = time.perf_counter()
            db.fetch(newest, spec.batch_size)
            queried.append(time.perf_counter() - started)
    finally:
        db.close()
    return statistics.median(skipped), statistics.median(queried)


class Arrivals:
    """When the store committed each polled row's event, by row id (`perf_counter`)."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}

    def __call__(self, batch: list[StoredEvent]) -> None:
        now = time.perf_counter()
        for stored in batch:
            if stored.event.event == "db.row.polled":
                self.at[stored.event.payload["key"]["id"]] = now

    async def wait_for(self, ids: range) -> float:
        deadline = time.perf_counter() + TIMEOUT_SECONDS
        while not all(i in self.at for i in ids):
            if time.perf_counter() > deadline:
                missing = sum(i not in self.at for i in ids)
                raise BenchError(f"{missing} of {len(ids)} rows never arrived as events")
            await asyncio.sleep(0.01)
        return max(self.at[i] for i in ids)


def _single_rows(path: Path, first: int) -> dict[int, float]:
    """One row per transaction; the `perf_counter` at which each commit returned."""
    committed = {}
    with sqlite3.connect(path, isolation_level=None) as conn:
        for n in range(first, first + SINGLE_ROWS):
            conn.execute(
                "INSERT INTO orders (id, customer, amount, updated_at) VALUES (?, 'one', 1, ?)",
                (n, f"2026-01-02T00:00:{n:09d}"),
            )
            committed[n] = time.perf_counter()
            time.sleep(SINGLE_GAP)
    return committed


def _burst(path: Path, first: int) -> float:
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO orders (id, customer, amount, updated_at) VALUES (?, 'burst', 1, ?)",
            ((n, f"2026-02-01T00:00:{n:09d}") for n in range(first, first + BURST)),
        )
    return time.perf_counter()


async def _run(rows: int) -> int:
    with tempfile.TemporaryDirectory(prefix="evtui-bench-") as scratch:
        warehouse = Path(scratch) / "warehouse.db"
        note(f"filling {rows:,} rows")
        _fill(warehouse, rows)
        entry = {
            "url": f"sqlite:///{warehouse}",
            "query": QUERY,
            "cursor": "updated_at",
            "key": "id",
            "every": "50ms",
            "batch_size": 5000,
        }
        skipped, queried = _idle_costs(SqlPollSpec.parse(entry, 0))
        settings = Settings(db=Path(scratch) / "evtui.db", port=0, watch_sql=[entry])
        async with Engine(settings, serve_http=False) as engine:
            arrivals = Arrivals()
            engine.store.add_commit_listener(arrivals)
            singles = await asyncio.to_thread(_single_rows, warehouse, rows + 1)
            await arrivals.wait_for(range(rows + 1, rows + 1 + SINGLE_ROWS))
            latencies = [(arrivals.at[n] - at) * 1000 for n, at in singles.items()]
            first = rows + 1 + SINGLE_ROWS
            committed = await asyncio.to_thread(_burst, warehouse, first)
            last = await arrivals.wait_for(range(first, first + BURST))
            (source,) = engine.db_sources
            settled = time.perf_counter() + 5.0  # the count follows the last cursor save
            while source.stats()["delivered"] < SINGLE_ROWS + BURST:
                if time.perf_counter() > settled:
                    break
                await asyncio.sleep(0.01)
            delivered = source.stats()["delivered"]
    seconds = last - committed
    exact = delivered == SINGLE_ROWS + BURST
    emit(
        f"sql poll (SQLite, {rows:,} rows, no index on the cursor): idle poll "
        f"{skipped * 1e6:.0f} µs skipped by data_version vs {ms(queried * 1000)} running the "
        f"query; row committed -> event stored p50 {ms(percentile(latencies, 0.5))}, p95 "
        f"{ms(percentile(latencies, 0.95))} (every 50 ms); {BURST:,}-row transaction: "
        f"{BURST / seconds:,.0f} events/s ({seconds:.2f} s to the last event; "
        f"{delivered:,} delivered for {SINGLE_ROWS + BURST:,} rows)"
    )
    return 0 if exact else 1


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=200_000, help="rows already in the table (200,000)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
