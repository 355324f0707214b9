"""Ingest benchmark: throughput, acknowledgement latency, loss and memory of `evtui serve`.

    python bench/ingest.py                  # every figure, about three minutes
    python bench/ingest.py --modes single   # one figure

Starts `evtui serve` on a fresh database in a temporary directory, then runs, one after the
other on the same server:

- single: one event per `POST /api/events` from 32 concurrent keep-alive connections;
- batch:  100 events per POST from 32 connections;
- ws:     a Prefect-style event stream on `WS /api/events/in` (see streaming.py);
- rss:    tops the store up to 1,000,000 events over HTTP, then reads the server's VmRSS.

After each mode the SQLite file is opened read-only and the run's ids are counted: every
acknowledged event must be there. Each figure is one line on stdout (progress goes to stderr);
the exit status is 1 if any acknowledged event is missing, 2 if the benchmark could not run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from figures import LoadResult, check_loss, emit, ms, note, target
from posting import PostLoad, run_posts
from streaming import StreamLoad, run_stream
from target import Server, run_script, serving, stored_ids, stored_total
from workload import event_template, new_nonce

MODES = ("single", "batch", "ws", "rss")
RSS_EVENTS = 1_000_000
RSS_LIMIT_MIB = 200
FILL_BATCH = 1_000


def main() -> int:
    args = _parse_args()
    return run_script("bench/ingest.py", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="evtui-bench-") as scratch,
        serving(Path(scratch) / "ingest.db") as server,
    ):
        lost = sum(_MODES[mode](server, args) for mode in args.modes)
    return 1 if lost else 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--modes",
        type=lambda text: text.split(","),
        default=list(MODES),
        help=f"comma-separated, from {','.join(MODES)} (default: all)",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each timed mode")
    parser.add_argument("--connections", type=int, default=32, help="HTTP connections")
    parser.add_argument("--batch", type=int, default=100, help="events per POST in batch mode")
    parser.add_argument("--ws-connections", type=int, default=8, help="websocket connections")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator: wrk when installed (auto), or Python client processes",
    )
    args = parser.parse_args()
    unknown = [mode for mode in args.modes if mode not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}; choose from {', '.join(MODES)}")
    return args


def _post_load(
    server: Server, batch: int, connections: int, seconds: float, quota: int | None = None
) -> PostLoad:
    """Fresh events (a new nonce) for one run against `server`."""
    return PostLoad(
        host="127.0.0.1",
        port=server.port,
        template=event_template(),
        nonce=new_nonce(),
        batch=batch,
        connections=connections,
        seconds=seconds,
        quota=quota,
    )


def _post_mode(server: Server, args: argparse.Namespace, batch: int) -> int:
    load = _post_load(server, batch, args.connections, args.seconds)
    kind = "single-POST" if batch == 1 else f"batch-{batch} POST"
    note(f"{kind}: {args.connections} connections for {args.seconds:.0f} s")
    result = run_posts(load, args.generator)
    goal = 3_000 if batch == 1 else 20_000
    return _report(
        f"ingest {kind} x{args.connections} conns",
        result,
        server,
        load.nonce,
        "acknowledgement",
        target(result.rate >= goal, f">= {goal:,} events/s"),
    )


def _single(server: Server, args: argparse.Namespace) -> int:
    return _post_mode(server, args, 1)


def _batch(server: Server, args: argparse.Namespace) -> int:
    return _post_mode(server, args, args.batch)


def _ws(server: Server, args: argparse.Namespace) -> int:
    load = StreamLoad(
        host="127.0.0.1",
        port=server.port,
        template=event_template(),
        nonce=new_nonce(),
        connections=args.ws_connections,
        seconds=args.seconds,
    )
    note(f"websocket stream: {args.ws_connections} connections for {args.seconds:.0f} s")
    result = run_stream(load)
    return _report(
        f"ingest websocket x{args.ws_connections} conns",
        result,
        server,
        load.nonce,
        "checkpoint (pong after 700 events)",
        target(result.rate >= 10_000, ">= 10,000 events/s"),
    )


def _report(
    label: str, result: LoadResult, server: Server, nonce: str, latency: str, goal: str
) -> int:
    """One line for the run; returns how many acknowledged events are missing."""
    loss = check_loss(result, stored_ids(server.db, nonce))
    extras = ""
    if result.refused:
        extras += f", {result.refused:,} answers 429/503 (retried)"
    if result.errors:
        extras += f", {len(result.errors)} client errors (first: {result.errors[0]})"
    emit(
        f"{label} [{result.generator}]: {result.rate:,.0f} events/s acknowledged, "
        f"{latency} p50 {ms(result.p50_ms)}, p99 {ms(result.p99_ms)}, "
        f"{loss.describe()}{extras}; {goal}"
    )
    return loss.lost


def _rss(server: Server, args: argparse.Namespace) -> int:
    """Bring the store to 1,000,000 events over HTTP (if the modes before did not), then read
    the server's resident memory."""
    missing = RSS_EVENTS - stored_total(server.db)
    lost = 0
    if missing > 0:
        note(f"filling the store with {missing:,} more events (batches of {FILL_BATCH:,})")
        load = _post_load(server, FILL_BATCH, connections=4, seconds=3600.0, quota=missing)
        result = run_posts(load, "python")
        lost = check_loss(result, stored_ids(server.db, load.nonce)).lost
        if lost:
            note(f"the fill lost {lost:,} acknowledged events")
    rss, peak = server.memory_mib()
    total = stored_total(server.db)
    emit(
        f"server RSS after {total:,} stored events: {rss:,.0f} MiB (peak {peak:,.0f} MiB); "
        f"{target(rss < RSS_LIMIT_MIB and total >= RSS_EVENTS, f'< {RSS_LIMIT_MIB} MiB')}"
    )
    return lost


_MODES: dict[str, Callable[[Server, argparse.Namespace], int]] = {
    "single": _single,
    "batch": _batch,
    "ws": _ws,
    "rss": _rss,
}

if __name__ == "__main__":
    sys.exit(main())
