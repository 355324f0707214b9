"""Real engines on ephemeral loopback ports, and the clients a user would point at them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from evtui.engine import Engine

DEADLINE = 10.0
"""Seconds a poll waits for something that normally happens within milliseconds."""


class OpenSocket(Protocol):
    def __call__(
        self,
        engine: Engine,
        path: str,
        *,
        token: str | None = None,
        subprotocol: bool = True,
        authenticate: bool = True,
    ) -> Awaitable[ClientConnection]: ...


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[Engine], httpx.AsyncClient]]:
    """HTTP clients for `engine.api_url` (paths are relative to `/api`), closed at the end."""
    clients: list[httpx.AsyncClient] = []

    def client(engine: Engine) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(base_url=engine.api_url, trust_env=False))
        return clients[-1]

    yield client
    for client_ in clients:
        await client_.aclose()


@pytest.fixture
def api(engine: Engine, client_for: Callable[[Engine], httpx.AsyncClient]) -> httpx.AsyncClient:
    return client_for(engine)


def ws_url(engine: Engine, path: str) -> str:
    return engine.api_url.replace("http://", "ws://", 1) + path


@pytest.fixture
async def open_socket() -> AsyncIterator[OpenSocket]:
    """Connect like Prefect's client: subprotocol `prefect`, a ping, then the auth message."""
    opened: list[ClientConnection] = []

    async def open_(
        engine: Engine,
        path: str,
        *,
        token: str | None = None,
        subprotocol: bool = True,
        authenticate: bool = True,
    ) -> ClientConnection:
        websocket = await connect(
            ws_url(engine, path),
            subprotocols=["prefect"] if subprotocol else None,
            proxy=None,
            ping_interval=None,
            max_size=None,
        )
        opened.append(websocket)
        if subprotocol and authenticate:
            await (await websocket.ping())
            await websocket.send(json.dumps({"type": "auth", "token": token}))
            assert json.loads(await websocket.recv()) == {"type": "auth_success"}
        return websocket

    yield open_
    for websocket in opened:
        await websocket.close()


def make_event(
    name: str = "test.thing.happened", resource_id: str = "test.resource.1", **fields: Any
) -> dict[str, Any]:
    """An event as Prefect's client sends it: its own id and `occurred` now."""
    return {
        "id": str(uuid.uuid4()),
        "occurred": datetime.now(UTC).isoformat(),
        "event": name,
        "resource": {"prefect.resource.id": resource_id},
        "related": [],
        "payload": {},
    } | fields


@pytest.fixture
def event() -> Callable[..., dict[str, Any]]:
    return make_event


async def poll(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until `check()` holds, failing with `what` after the deadline."""
    deadline = time.monotonic() + DEADLINE
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def wait_for() -> Callable[[Callable[[], Awaitable[bool]], str], Awaitable[None]]:
    return poll
