"""`WS /api/events/out`: backfill, then live events, filtered, each exactly once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed


async def subscribe(open_socket, engine, event_filter: dict[str, Any] | None = None, **extra):
    websocket = await open_socket(engine, "/events/out")
    message = {"type": "filter", "filter": event_filter or {}} | extra
    await websocket.send(json.dumps(message))
    return websocket


async def receive_events(websocket, count: int) -> list[dict[str, Any]]:
    received = []
    for _ in range(count):
        message = json.loads(await asyncio.wait_for(websocket.recv(), 10))
        assert message["type"] == "event"
        received.append(message["event"])
    return received


async def receive_until(websocket, last_id: str) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while not received or received[-1]["id"] != last_id:
        received.extend(await receive_events(websocket, 1))
    return received


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def test_backfill_then_live_in_order(engine, api, open_socket, event):
    old = [event(occurred=ago(seconds=30 - n), resource_id=f"r.{n}") for n in range(3)]
    await api.post("/events", json=list(reversed(old)))
    websocket = await subscribe(open_socket, engine)
    backfilled = await receive_events(websocket, 3)
    assert [e["id"] for e in backfilled] == [e["id"] for e in old]  # oldest first
    assert all("received" in e for e in backfilled)
    new = [event() for _ in range(2)]
    await api.post("/events", json=new)
    live = await receive_events(websocket, 2)
    assert [e["id"] for e in live] == [e["id"] for e in new]
    assert live[0]["resource"] == new[0]["resource"]


async def test_the_filter_applies_to_backfill_and_live(engine, api, open_socket, event):
    await api.post("/events", json=[event("app.order.created"), event("app.user.created")])
    websocket = await subscribe(open_socket, engine, {"event": {"prefix": ["app.order."]}})
    [backfilled] = await receive_events(websocket, 1)
    assert backfilled["event"] == "app.order.created"
    last = event("app.order.shipped")
    await api.post("/events", json=[event("app.user.deleted"), last])
    live = await receive_until(websocket, last["id"])
    assert [e["event"] for e in live] == ["app.order.shipped"]


async def test_without_backfill_only_live_events_come(engine, api, open_socket, event):
    await api.post("/events", json=[event()])
    websocket = await subscribe(open_socket, engine, backfill=False)
    await (await websocket.ping())  # the filter has been read
    new = event()
    await api.post("/events", json=[new])
    [live] = await receive_events(websocket, 1)
    assert live["id"] == new["id"]


async def test_backfill_reaches_back_15_minutes_at_most(engine, api, open_socket, event):
    too_old, recent = event(occurred=ago(minutes=20)), event(occurred=ago(minutes=10))
    await api.post("/events", json=[too_old, recent])
    since = ago(hours=1)
    websocket = await subscribe(open_socket, engine, {"occurred": {"since": since}})
    [backfilled] = await receive_events(websocket, 1)
    assert backfilled["id"] == recent["id"]


async def test_events_committed_during_the_backfill_come_exactly_once(
    engine, api, open_socket, event
):
    before = [event(resource_id=f"r.{n}") for n in range(600)]  # three backfill pages
    await api.post("/events", json=before)
    during = [event() for _ in range(200)]

    async def post_during() -> None:
        for start in range(0, len(during), 10):
            await api.post("/events", json=during[start : start + 10])

    posting = asyncio.create_task(post_during())
    websocket = await subscribe(open_socket, engine)
    await posting
    last = event()
    await api.post("/events", json=[last])
    received = [e["id"] for e in await receive_until(websocket, last["id"])]
    assert len(received) == len(set(received))
    assert set(received) == {e["id"] for e in [*before, *during, last]}


async def test_a_slow_subscriber_catches_up_instead_of_losing_events(
    start_engine, client_for, open_socket, event
):
    engine = await start_engine(subscriber_buffer=10)
    api = client_for(engine)
    websocket = await subscribe(open_socket, engine, backfill=False)
    await (await websocket.ping())
    sent = [event(resource_id=f"r.{n}") for n in range(500)]
    await api.post("/events", json=sent)  # one batch of 500 > the buffer of 10: dropped
    received = await receive_events(websocket, 500)
    assert [e["id"] for e in received] == [e["id"] for e in sent]
    [subscriber] = _websocket_subscribers(engine)
    assert subscriber["dropped"] >= 500
    assert subscriber["delivered"] >= 500


async def test_a_disconnected_subscriber_is_removed(engine, open_socket, wait_for):
    websocket = await subscribe(open_socket, engine)
    await wait_for(lambda: _subscribers(engine, 1), "the subscription")
    await websocket.close()
    await wait_for(lambda: _subscribers(engine, 0), "the subscription to end")


def _websocket_subscribers(engine) -> list[dict]:
    """Subscribers but the automation service's, which every engine has."""
    return [s for s in engine.stats()["subscribers"] if s["name"] != "automations"]


async def _subscribers(engine, count: int) -> bool:
    return len(_websocket_subscribers(engine)) == count


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "events"}, "Expected 'filter' message"),
        ("not json", "Expected 'filter' message"),
        ({"type": "filter", "filter": {"colour": "red"}}, "Invalid filter: filter.colour: Extra"),
        (
            {"type": "filter", "filter": {"occurred": {"since": "soon"}}},
            "Invalid filter: filter.occurred.since:",
        ),
    ],
    ids=["wrong type", "not json", "unknown key", "bad time"],
)
async def test_a_bad_filter_message_closes_1002(engine, open_socket, message, reason):
    websocket = await open_socket(engine, "/events/out")
    await websocket.send(message if isinstance(message, str) else json.dumps(message))
    with pytest.raises(ConnectionClosed) as closed:
        await websocket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1002
    assert closed.value.rcvd.reason.startswith(reason)


async def test_legacy_mode_sends_the_filter_at_once(engine, api, open_socket, event):
    sent = event()
    await api.post("/events", json=[sent])
    websocket = await open_socket(engine, "/events/out", subprotocol=False)
    await websocket.send(json.dumps({"type": "filter", "filter": {}}))
    [backfilled] = await receive_events(websocket, 1)
    assert backfilled["id"] == sent["id"]
