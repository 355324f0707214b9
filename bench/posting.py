"""Load on `POST /api/events`: wrk where installed, else Python client processes.

wrk (C, one thread per core) costs a few percent of a core at these rates, so on a 2-core
machine nearly all CPU is left to the server. The Python fallback forks client processes, each
with its own event loop and keep-alive connections, and builds each body just before sending
it; it knows every acknowledged id, so its loss check is exact.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from figures import ClientOutcome, LoadResult, from_clients
from keepalive import ConnectionLost, KeepAlive
from processes import fan_out, share, start_time
from target import BenchError
from workload import CUSTOMERS, RESOURCES, batch_json, event_id

WRK_SCRIPT = Path(__file__).with_name("wrk_events.lua")
RETRY_AFTER_CAP = 1.0
"""Longest pause after a 429/503 before resending the same events."""


@dataclass(frozen=True)
class PostLoad:
    """What to send: `batch` events per request from `connections` connections."""

    host: str
    port: int
    template: str
    nonce: str
    batch: int
    connections: int
    seconds: float
    quota: int | None = None
    """Stop after this many events (spread over the processes) instead of at the deadline."""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(load: PostLoad, threads: int = 2) -> LoadResult:
    """wrk for `load.seconds`; it reports counts, so the loss check compares counts."""
    command = [
        "wrk",
        f"-t{min(threads, load.connections)}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        f"http://{load.host}:{load.port}/api/events",
        "--",
        load.nonce,
        load.template,
        str(load.batch),
        str(RESOURCES),
        str(CUSTOMERS),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    figures = json.loads(line.removeprefix("WRK_RESULT "))
    answered = figures["requests"] - figures["status"]
    errors = [
        f"{figures[kind]} {kind} errors"
        for kind in ("connect", "read", "write", "timeout")
        if figures[kind]
    ]
    return LoadResult(
        generator="wrk",
        sent_events=figures["sent_events"],
        acked_events=answered * load.batch,
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        refused=figures["status"],
        errors=errors,
    )


@dataclass(frozen=True)
class _Job:
    load: PostLoad
    worker: int
    connections: int
    quota: int | None
    start_at: float


def run_python(load: PostLoad, processes: int = 2) -> LoadResult:
    """Client processes that share the connections (and any quota) evenly."""
    start_at = start_time(processes)
    jobs = [
        _Job(
            load,
            worker,
            connections=share(load.connections, processes, worker),
            quota=None if load.quota is None else share(load.quota, processes, worker),
            start_at=start_at,
        )
        for worker in range(processes)
    ]
    return from_clients(fan_out(_post_all, jobs), start_at)


async def _post_all(job: _Job) -> ClientOutcome:
    load = job.load
    outcome = ClientOutcome()
    connections = [await KeepAlive.open(load.host, load.port) for _ in range(job.connections)]
    await asyncio.sleep(max(0.0, job.start_at - time.time()))
    deadline = job.start_at + load.seconds
    counter = 0

    async def drive(connection: KeepAlive) -> None:
        nonlocal counter
        while time.time() < deadline and (job.quota is None or counter < job.quota):
            first = counter
            count = load.batch if job.quota is None else min(load.batch, job.quota - counter)
            counter += count
            body = batch_json(load.template, load.nonce, job.worker, first, count)
            request = KeepAlive.request("POST", load.host, load.port, "/api/events", body)
            outcome.sent_events += count
            try:
                if await _send_until_answered(connection, request, deadline, outcome):
                    ids = (event_id(load.nonce, job.worker, n) for n in range(first, first + count))
                    outcome.acked_ids.update(ids)
            except ConnectionLost as error:
                outcome.errors.append(f"connection lost: {error}")
                return

    try:
        await asyncio.gather(*(drive(connection) for connection in connections))
    finally:
        outcome.finished_at = time.time()
        for connection in connections:
            connection.close()
    return outcome


async def _send_until_answered(
    connection: KeepAlive, request: bytes, deadline: float, outcome: ClientOutcome
) -> bool:
    """True once the server acknowledged; overload answers are retried like a polite client.

    Raises `ConnectionLost` when the server hangs up (the connection is then of no more use).
    """
    pause = 0.05
    while True:
        started = time.perf_counter()
        status, body = await connection.exchange(request)
        outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        if 200 <= status < 300:
            return True
        if status not in (429, 503) or time.time() >= deadline:
            if status not in (429, 503):
                outcome.errors.append(f"HTTP {status}: {body[:300].decode(errors='replace')}")
            return False
        outcome.refused += 1
        await asyncio.sleep(pause)
        pause = min(RETRY_AFTER_CAP, pause * 2)


def run_posts(load: PostLoad, generator: str) -> LoadResult:
    """`generator` is "wrk", "python" or "auto" (wrk when installed).

    A run with a quota always uses Python clients: wrk stops at a deadline, not a count.
    """
    if load.quota is None and generator in ("wrk", "auto"):
        if wrk_available():
            return run_wrk(load)
        if generator == "wrk":
            raise BenchError("wrk is not installed (apt-get install -y wrk); or --generator python")
    return run_python(load)
