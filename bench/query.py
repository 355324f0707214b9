"""Query benchmark: filter latency and server memory over a 1,000,000-event store.

    python bench/query.py                       # fill a temporary store, measure, clean up
    python bench/query.py --db /tmp/q.db        # keep the filled file and reuse it next time

Fills the store directly with `evtui.store.Store` (see fill.py), starts `evtui serve` on the
file, warms it up, then sends `POST /api/events/filter` with
`{"filter": {"resource": {"id": [<one resource id>]}}, "limit": 50}` for distinct random
resources, one request at a time on one keep-alive connection, and checks every answer against
the known content (`total` and the page size). One line per figure on stdout, progress on
stderr; exit status 1 if an answer is wrong, 2 if the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from evtui.store import Store

from figures import emit, ms, note, percentile, target
from fill import expected_counts, fill
from keepalive import KeepAlive
from target import BenchError, Server, run_script, serving, stored_total

PAGE = 50
WARM_UP = 20
P50_LIMIT_MS = 20.0
RSS_LIMIT_MIB = 200


def main() -> int:
    args = _parse_args()
    return run_script("bench/query.py", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        if args.db is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="evtui-bench-"))
            db = Path(scratch) / "query.db"
        else:
            db = args.db.resolve()
        _prepare(db, args)
        status = _measure(stack.enter_context(serving(db)), args)
    return status


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store")
    parser.add_argument("--resources", type=int, default=10_000, help="distinct resources")
    parser.add_argument("--queries", type=int, default=500, help="measured queries")
    parser.add_argument("--seed", type=int, default=3, help="seed of the store's content")
    parser.add_argument(
        "--db", type=Path, default=None, help="keep the filled store here and reuse it"
    )
    return parser.parse_args()


def _prepare(db: Path, args: argparse.Namespace) -> None:
    if db.exists():
        found = stored_total(db)
        if found != args.events:
            raise BenchError(
                f"{db} holds {found:,} events, not {args.events:,}; remove it or pick another"
            )
        note(f"reusing {db} ({found:,} events)")
        return
    note(f"filling {db} with {args.events:,} events over {args.resources:,} resources")
    started = time.perf_counter()
    asyncio.run(_fill(db, args))
    note(f"filled in {time.perf_counter() - started:.0f} s")


async def _fill(db: Path, args: argparse.Namespace) -> None:
    async with Store(db) as store:
        await fill(store, args.events, args.resources, args.seed)


def _measure(server: Server, args: argparse.Namespace) -> int:
    expected = expected_counts(args.events, args.resources, args.seed)
    chosen = random.Random(args.seed + 1).sample(sorted(expected), WARM_UP + args.queries)
    latencies, wrong = asyncio.run(_query_all(server, chosen, expected))
    measured = latencies[WARM_UP:]
    p50 = percentile(measured, 0.50)
    rss, peak = server.memory_mib()
    total = stored_total(server.db)
    emit(
        f"query filter resource.id over {total:,} events (limit {PAGE}) "
        f"x{len(measured):,} sequential: p50 {ms(p50)}, p99 {ms(percentile(measured, 0.99))}, "
        f"{len(chosen) - wrong:,}/{len(chosen):,} answers correct; "
        f"{target(p50 < P50_LIMIT_MS, f'p50 < {P50_LIMIT_MS:.0f} ms')}"
    )
    emit(
        f"server RSS serving queries over {total:,} stored events: {rss:,.0f} MiB "
        f"(peak {peak:,.0f} MiB); {target(rss < RSS_LIMIT_MIB, f'< {RSS_LIMIT_MIB} MiB')}"
    )
    return 1 if wrong else 0


async def _query_all(
    server: Server, resource_ids: list[str], expected: dict[str, int]
) -> tuple[list[float], int]:
    """Latency of each query (ms) and how many answers were wrong."""
    connection = await KeepAlive.open("127.0.0.1", server.port)
    latencies: list[float] = []
    wrong = 0
    try:
        for resource in resource_ids:
            body = json.dumps({"filter": {"resource": {"id": [resource]}}, "limit": PAGE})
            request = KeepAlive.request(
                "POST", "127.0.0.1", server.port, "/api/events/filter", body.encode()
            )
            started = time.perf_counter()
            status, reply = await connection.exchange(request)
            latencies.append((time.perf_counter() - started) * 1000)
            if status in (404, 405):
                raise BenchError(
                    f"POST /api/events/filter answered {status}: the query API "
                    "(evtui/server/query_api.py) is not wired into the app yet"
                )
            problem = _check(status, reply, resource, expected[resource])
            if problem:
                wrong += 1
                note(f"wrong answer for {resource}: {problem}")
    finally:
        connection.close()
    return latencies, wrong


def _check(status: int, reply: bytes, resource: str, count: int) -> str | None:
    if status != 200:
        return f"HTTP {status}: {reply[:300].decode(errors='replace')}"
    page = json.loads(reply)
    if page.get("total") != count:
        return f"total {page.get('total')}, expected {count}"
    events = page.get("events", [])
    if len(events) != min(PAGE, count):
        return f"{len(events)} events on the page, expected {min(PAGE, count)}"
    others = [e["id"] for e in events if e["resource"]["prefect.resource.id"] != resource]
    if others:
        return f"{len(others)} events of other resources"
    return None


if __name__ == "__main__":
    sys.exit(main())
