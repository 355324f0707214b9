"""`WS /api/events/in`, replayed frame by frame as Prefect's events client speaks it."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from evtui.server.prefect_socket import close_reason


async def closed_with(websocket) -> tuple[int, str]:
    """Read until the server closes; the code and reason it closed with."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await websocket.recv()
    assert closed.value.rcvd is not None, "the server did not send a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_the_prefect_handshake(engine, open_socket):
    websocket = await open_socket(engine, "/events/in", authenticate=False)
    assert websocket.subprotocol == "prefect"
    await (await websocket.ping())  # Prefect's liveness check, before the auth message
    await websocket.send(json.dumps({"type": "auth", "token": None}))
    assert json.loads(await websocket.recv()) == {"type": "auth_success"}


async def test_events_are_stored_and_a_pong_means_they_are_committed(engine, open_socket, event):
    """Prefect forgets the events sent before a ping once its pong arrives (checkpoint)."""
    websocket = await open_socket(engine, "/events/in")
    sent = [event(resource_id=f"test.resource.{n}") for n in range(1500)]
    for item in sent:
        await websocket.send(json.dumps(item))
    await (await websocket.ping())
    assert await engine.store.count_events() == 1500  # no polling: the pong is the proof
    more = [event() for _ in range(10)]
    for item in more:
        await websocket.send(json.dumps(item))
    await (await websocket.ping())
    assert await engine.store.count_events() == 1510
    stored = await engine.store.get_event(more[-1]["id"])
    assert stored is not None
    assert stored.event.event == "test.thing.happened"


async def test_resent_events_are_stored_once(engine, open_socket, event):
    """After a reconnect Prefect's client resends everything unconfirmed."""
    sent = [event() for _ in range(20)]
    for _ in range(2):
        websocket = await open_socket(engine, "/events/in")
        for item in sent:
            await websocket.send(json.dumps(item))
        await (await websocket.ping())
        await websocket.close()
    assert await engine.store.count_events() == 20
    assert engine.stats()["duplicates"] == 20


async def test_legacy_mode_without_subprotocol_takes_events_at_once(engine, open_socket, event):
    websocket = await open_socket(engine, "/events/in", subprotocol=False)
    assert websocket.subprotocol is None
    sent = event()
    await websocket.send(json.dumps(sent))
    await (await websocket.ping())
    assert await engine.store.get_event(sent["id"]) is not None


async def test_the_first_message_must_be_auth(engine, open_socket):
    for first in ['{"type": "hello"}', "not json", '["auth"]', json.dumps({"event": "x"})]:
        websocket = await open_socket(engine, "/events/in", authenticate=False)
        await websocket.send(first)
        assert await closed_with(websocket) == (1008, "Expected 'auth' message"), first


async def test_a_bad_frame_closes_with_the_field_and_keeps_what_came_before(
    engine, open_socket, event
):
    websocket = await open_socket(engine, "/events/in")
    good = [event() for _ in range(3)]
    for item in good:
        await websocket.send(json.dumps(item))
    await websocket.send(json.dumps(event(resource={"prefect.resource.name": "no id"})))
    code, reason = await closed_with(websocket)
    assert code == 1007
    assert reason.startswith("Invalid event: resource: must have a non-empty")
    assert "prefect.resource.id" in reason
    # Committed before the close frame was sent: no polling needed.
    assert await engine.store.count_events() == 3
    assert engine.stats()["rejected"] == 1


BAD_FRAMES = {
    '{"event": "x", "resource": ': "Invalid event: (root): Invalid JSON",
    '{"event": 5, "resource": {"prefect.resource.id": "r"}}': "Invalid event: event:",
    '{"resource": {"prefect.resource.id": "r"}}': "Invalid event: event: Field required",
}


async def test_frame_errors_name_the_problem(engine, open_socket):
    for frame, expected in BAD_FRAMES.items():
        websocket = await open_socket(engine, "/events/in")
        await websocket.send(frame)
        code, reason = await closed_with(websocket)
        assert code == 1007, frame
        assert reason.startswith(expected), (frame, reason)


async def test_an_event_over_1_5_mb_closes_the_socket(engine, open_socket, event):
    websocket = await open_socket(engine, "/events/in")
    await websocket.send(json.dumps(event(payload={"blob": "x" * 1_500_000})))
    code, reason = await closed_with(websocket)
    assert code == 1007
    assert "at most 1500000" in reason
    assert await engine.store.count_events() == 0


def test_close_reasons_fit_in_a_close_frame():
    assert close_reason("short") == "short"
    long = "é" * 100  # two bytes each
    assert len(close_reason(long).encode()) <= 123
    assert close_reason(long) == "é" * 61


async def test_other_websocket_paths_are_refused(engine, open_socket):
    with pytest.raises(Exception, match="403"):
        await open_socket(engine, "/events/nowhere")


async def test_a_plain_websocket_client_gets_automatic_pongs_on_other_sockets(engine):
    """Only `/events/in` holds pongs for commits; `/events/out` answers them as usual."""
    url = engine.api_url.replace("http://", "ws://") + "/events/out"
    async with connect(url, subprotocols=["prefect"], proxy=None) as websocket:
        await (await websocket.ping())
        await websocket.send(json.dumps({"type": "auth", "token": None}))
        assert json.loads(await websocket.recv()) == {"type": "auth_success"}
        await (await websocket.ping())
