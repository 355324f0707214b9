"""`GET /api/firings`: what fired, on which event, and what its actions did, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from polling import until

from evtui.engine import Engine


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=engine.api_url, trust_env=False) as client:
        yield client


def automation(name: str, expect: str) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"type": "event", "posture": "Reactive", "expect": [expect], "threshold": 1},
        "actions": [{"type": "do-nothing"}],
    }


async def test_firings_list_newest_first_with_their_actions(api: httpx.AsyncClient) -> None:
    ticks = (await api.post("/automations/", json=automation("ticks", "tick"))).json()
    tocks = (await api.post("/automations/", json=automation("tocks", "tock"))).json()
    for name in ("tick", "tock", "tick"):
        event = {"event": name, "resource": {"prefect.resource.id": "clock"}}
        assert (await api.post("/events", json=[event])).status_code == 204

    async def three_done() -> list[dict[str, Any]] | None:
        firings = (await api.get("/firings")).json()
        done = [f for f in firings if f["actions"] and f["actions"][0]["state"] == "executed"]
        return firings if len(done) == 3 else None

    firings = await until(three_done, what="three firings with their actions done")
    assert [f["automation_id"] for f in firings] == [ticks["id"], tocks["id"], ticks["id"]]
    assert firings[0]["occurred"] >= firings[1]["occurred"] >= firings[2]["occurred"]
    assert firings[0]["actions"][0]["action_type"] == "do-nothing"

    only_tocks = (await api.get("/firings", params={"automation_id": tocks["id"]})).json()
    assert [f["id"] for f in only_tocks] == [firings[1]["id"]]
    assert (await api.get("/firings/counts")).json() == {ticks["id"]: 2, tocks["id"]: 1}
    one = (await api.get(f"/firings/{firings[1]['id']}")).json()
    assert one == firings[1]


async def test_an_unknown_firing_is_404_and_a_bad_limit_422(api: httpx.AsyncClient) -> None:
    missing = await api.get("/firings/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"][0]["loc"] == ["path", "id"]
    assert (await api.get("/firings", params={"limit": 0})).status_code == 422
