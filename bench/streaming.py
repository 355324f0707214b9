"""Load on `WS /api/events/in`, sent the way Prefect's own events client sends.

Each connection asks for the `prefect` subprotocol, authenticates with
`{"type":"auth","token":null}`, waits for `{"type":"auth_success"}`, then sends one event JSON
per text frame. Like Prefect's client it checkpoints every 700 events: a websocket ping whose
pong means "everything before the ping is committed", awaited before sending more; a last ping
confirms the tail. Events sent before the last pong that arrived are the acknowledged ones.
Client processes are forked so the websocket framing is spread over the cores.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from figures import ClientOutcome, LoadResult, from_clients
from processes import fan_out, share, start_time
from target import BenchError
from workload import event_id, event_json

CHECKPOINT_EVERY = 700
"""Prefect's client pings after this many unconfirmed events (reference §5.9)."""


@dataclass(frozen=True)
class StreamLoad:
    host: str
    port: int
    template: str
    nonce: str
    connections: int
    seconds: float


@dataclass(frozen=True)
class _Job:
    load: StreamLoad
    first_worker: int
    connections: int
    start_at: float


def run_stream(load: StreamLoad, processes: int = 2) -> LoadResult:
    start_at = start_time(processes)
    jobs, first = [], 0
    for index in range(processes):
        connections = share(load.connections, processes, index)
        jobs.append(_Job(load, first, connections, start_at))
        first += connections
    outcomes = fan_out(_stream_all, jobs)
    refused = [e for o in outcomes for e in o.errors if e.startswith("handshake:")]
    if refused:
        raise BenchError(
            f"WS /api/events/in refused the Prefect handshake ({refused[0]}); "
            "is the websocket receiver wired into the app yet?"
        )
    return from_clients(outcomes, start_at)


async def _open(load: StreamLoad) -> ClientConnection:
    socket = await connect(
        f"ws://{load.host}:{load.port}/api/events/in",
        subprotocols=[Subprotocol("prefect")],
        ping_interval=None,
        max_size=None,
    )
    await socket.send(json.dumps({"type": "auth", "token": None}))
    reply = json.loads(await socket.recv())
    if reply != {"type": "auth_success"}:
        await socket.close()
        raise InvalidHandshake(f"expected auth_success, got {reply!r}")
    return socket


async def _stream_all(job: _Job) -> ClientOutcome:
    outcome = ClientOutcome()
    try:
        sockets = [await _open(job.load) for _ in range(job.connections)]
    except (InvalidHandshake, InvalidStatus, ConnectionClosed, OSError) as error:
        outcome.errors.append(f"handshake: {error}")
        return outcome
    await asyncio.sleep(max(0.0, job.start_at - time.time()))
    deadline = job.start_at + job.load.seconds
    try:
        await asyncio.gather(
            *(
                _stream(socket, job.first_worker + index, deadline, job.load, outcome)
                for index, socket in enumerate(sockets)
            )
        )
    finally:
        outcome.finished_at = time.time()
        for socket in sockets:
            await socket.close()
    return outcome


async def _stream(
    socket: ClientConnection, worker: int, deadline: float, load: StreamLoad, outcome: ClientOutcome
) -> None:
    """Send in chunks of `CHECKPOINT_EVERY`, each confirmed by a ping before the next."""
    sent = 0
    try:
        while time.time() < deadline:
            for _ in range(CHECKPOINT_EVERY):
                await socket.send(event_json(load.template, load.nonce, worker, sent))
                sent += 1
            outcome.sent_events += CHECKPOINT_EVERY
            started = time.perf_counter()
            await (await socket.ping())
            outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
            confirmed = range(sent - CHECKPOINT_EVERY, sent)
            outcome.acked_ids.update(event_id(load.nonce, worker, n) for n in confirmed)
    except ConnectionClosed as error:
        outcome.errors.append(f"websocket closed: {error}")
