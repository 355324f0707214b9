"""A real engine on a loopback port with the webhook routes, and helpers to post to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from evtui.engine import Engine


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
