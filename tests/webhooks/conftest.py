"""A real engine on a loopback port with the webhook routes, and helpers to post to it."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi import Depends, FastAPI

import evtui.server.receiver as receiver_module
from evtui.engine import Engine
from evtui.server.app import create_app
from evtui.server.auth import ApiKey
from evtui.server.hooks_api import hooks_router, webhooks_api_router
from evtui.settings import Settings
from evtui.webhooks import WebhookStore


class StartEngine(Protocol):
    def __call__(self, **settings: Any) -> Awaitable[Engine]: ...


def _app_with_webhooks(engine: Engine) -> FastAPI:
    """`create_app` plus the webhook routers, as the lead wires them into `create_app`."""
    app = create_app(engine)
    if not any(getattr(route, "path", "") == "/hooks/{slug}" for route in app.routes):
        auth = Depends(ApiKey(engine.settings.api_key).dependency())
        app.include_router(hooks_router(engine))
        app.include_router(webhooks_api_router(engine), dependencies=[auth])
    return app


@pytest.fixture
async def start_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartEngine]:
    monkeypatch.setattr(receiver_module, "create_app", _app_with_webhooks)
    numbers = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(**settings: Any) -> Engine:
            engine = Engine(Settings(db=tmp_path / f"e{next(numbers)}.db", port=0, **settings))
            if not hasattr(engine, "webhooks"):
                engine.webhooks = WebhookStore(engine.store, engine.settings.webhooks)  # type: ignore[attr-defined]
                await stack.enter_async_context(engine)
                await engine.webhooks.load()  # type: ignore[attr-defined]
                return engine
            return await stack.enter_async_context(engine)

        yield start


@pytest.fixture
async def engine(start_engine: StartEngine) -> Engine:
    return await start_engine()


@pytest.fixture
async def http(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the server root (`/hooks/...` and `/api/...`)."""
    base = engine.api_url.removesuffix("/api")
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        yield client


async def add_webhook(http: httpx.AsyncClient, slug: str, **definition: Any) -> dict[str, Any]:
    response = await http.put(f"/api/webhooks/{slug}", json=definition)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def stored_events(engine: Engine) -> list[dict[str, Any]]:
    """Every stored event as its JSON, oldest first."""
    return [
        json.loads(stored.event.model_dump_json())
        for stored in await engine.store.latest(limit=1000)
    ]


@pytest.fixture
def add() -> Callable[..., Awaitable[dict[str, Any]]]:
    return add_webhook


@pytest.fixture
def events() -> Callable[[Engine], Awaitable[list[dict[str, Any]]]]:
    return stored_events
