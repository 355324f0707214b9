"""`POST /api/events`: what a sender sees for good, bad, repeated and overloading requests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from evtui.events import ReceivedEvent

LABELS_OVER_LIMIT = {f"label.{n}": "x" for n in range(500)} | {"prefect.resource.id": "r"}
RELATED = {"prefect.resource.id": "prefect.flow.1", "prefect.resource.role": "flow"}


async def test_an_array_is_stored_and_acknowledged_with_204(engine, api, event):
    events = [event(resource_id=f"test.resource.{n}") for n in range(3)]
    response = await api.post("/events", json=events)
    assert response.status_code == 204
    assert await engine.store.count_events() == 3
    stored = await engine.store.get_event(events[1]["id"])
    assert stored is not None
    assert stored.event.resource == {"prefect.resource.id": "test.resource.1"}


async def test_a_single_event_object_is_accepted_too(engine, api, event):
    sent = event(related=[RELATED], payload={"rows": 12})
    response = await api.post("/events", json=sent)
    assert response.status_code == 204
    stored = await engine.store.get_event(sent["id"])
    assert stored is not None
    assert stored.event.related == [RELATED]
    assert stored.event.payload == {"rows": 12}


async def test_the_acknowledgement_comes_after_the_commit(engine, api, event):
    """No polling here on purpose: a 204 means the events are already in the store."""
    events = [event() for _ in range(200)]
    assert (await api.post("/events", json=events)).status_code == 204
    assert await engine.store.count_events() == 200


async def test_an_empty_array_is_fine(engine, api):
    assert (await api.post("/events", json=[])).status_code == 204
    assert await engine.store.count_events() == 0


async def test_resending_the_same_events_stores_them_once(engine, api, event):
    events = [event() for _ in range(5)]
    first = await api.post("/events", json=events)
    again = await api.post("/events", json=events)
    assert (first.status_code, again.status_code) == (204, 204)
    assert await engine.store.count_events() == 5
    stats = (await api.get("/stats")).json()
    assert (stats["accepted"], stats["duplicates"]) == (5, 5)


async def test_received_is_stamped_by_the_server(engine, api, event):
    sent = event(received="1999-01-01T00:00:00Z")
    await api.post("/events", json=[sent])
    stored = await engine.store.get_event(sent["id"])
    assert stored is not None
    assert isinstance(stored.event, ReceivedEvent)
    assert stored.event.received.year > 1999


BAD_EVENTS = {
    "missing resource id": ({"resource": {"prefect.resource.name": "x"}}, [0, "resource"]),
    "empty resource id": ({"resource": {"prefect.resource.id": ""}}, [0, "resource"]),
    "resource not an object": ({"resource": "r"}, [0, "resource"]),
    "event name not a string": ({"event": 12}, [0, "event"]),
    "occurred not a time": ({"occurred": "yesterday-ish"}, [0, "occurred"]),
    "id not a uuid": ({"id": "not-a-uuid"}, [0, "id"]),
    "label value not a string": (
        {"resource": {"prefect.resource.id": "r", "n": 1}},
        [0, "resource", "n"],
    ),
    "payload not an object": ({"payload": [1, 2]}, [0, "payload"]),
    "too many labels": ({"resource": LABELS_OVER_LIMIT}, [0, "resource"]),
    "too many related": ({"related": [RELATED] * 101}, [0, "related"]),
    "related without role": ({"related": [{"prefect.resource.id": "x"}]}, [0, "related", 0]),
    "event name too long": ({"event": "x" * 1025}, [0, "event"]),
}


async def test_a_bad_event_is_refused_naming_the_field(engine, api, event):
    for case, (fields, where) in BAD_EVENTS.items():
        response = await api.post("/events", json=[event(**fields)])
        assert response.status_code == 422, case
        detail = response.json()["detail"]
        assert detail[0]["loc"] == ["body", *where], case
        assert detail[0]["msg"], case
    assert await engine.store.count_events() == 0


async def test_errors_say_why(api, event):
    response = await api.post("/events", json=[event(resource=LABELS_OVER_LIMIT)])
    assert "501 labels; at most 500" in response.json()["detail"][0]["msg"]
    response = await api.post("/events", json=[event(resource={"name": "x"})])
    assert "prefect.resource.id" in response.json()["detail"][0]["msg"]


async def test_an_event_without_a_resource_is_refused(api, event):
    response = await api.post("/events", json=[{"event": "x.y"}])
    assert response.status_code == 422
    assert response.json()["detail"][0] == {"loc": ["body", 0, "resource"], "msg": "Field required"}


async def test_a_bad_single_object_is_located_without_an_index(api, event):
    response = await api.post("/events", json=event(event=None))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "event"]


async def test_one_bad_event_and_the_whole_batch_is_refused(engine, api, event):
    events = [event() for _ in range(5)]
    events[3]["resource"] = {}
    response = await api.post("/events", json=events)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 3, "resource"]
    assert await engine.store.count_events() == 0


MALFORMED = {
    "truncated": b'[{"event": "x", ',
    "empty": b"",
    "not json": b"not json",
    "missing comma": b'[{"event": "x"} {}]',
}


async def test_malformed_json_is_a_400_with_the_position(api):
    for case, body in MALFORMED.items():
        response = await api.post("/events", content=body)
        assert response.status_code == 400, case
        [error] = response.json()["detail"]
        assert error["loc"] == ["body"], case
        assert "Invalid JSON" in error["msg"], case
        assert "line 1 column" in error["msg"], case


async def test_json_that_is_not_events_is_a_422(api):
    for body, loc in (("null", ["body"]), ('"text"', ["body"]), ("[1]", ["body", 0])):
        response = await api.post("/events", content=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc


async def test_an_event_over_1_5_mb_is_refused(engine, api, event):
    small = event()
    huge = event(payload={"blob": "x" * 1_500_000})
    response = await api.post("/events", json=[small, huge])
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", 1]
    assert "at most 1500000" in error["msg"]
    assert await engine.store.count_events() == 0


@pytest.fixture
async def small_body_engine(start_engine):
    return await start_engine(max_body_bytes=4096)


async def test_a_body_over_the_limit_is_a_413_by_its_declared_length(
    small_body_engine, client_for, event
):
    api = client_for(small_body_engine)
    events = [event(payload={"n": "x" * 100}) for _ in range(40)]
    response = await api.post("/events", json=events)
    assert response.status_code == 413
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "at most 4096 are allowed" in error["msg"]
    assert await small_body_engine.store.count_events() == 0


async def test_a_streamed_body_over_the_limit_is_a_413_too(small_body_engine, client_for, event):
    """Without Content-Length (chunked), the limit is enforced while reading."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"["
        for n in range(40):
            yield (b"," if n else b"") + json.dumps(event(payload={"n": "x" * 100})).encode()
        yield b"]"

    response = await client_for(small_body_engine).post("/events", content=chunks())
    assert response.status_code == 413
    assert "over 4096 bytes" in response.json()["detail"][0]["msg"]


async def test_rejections_are_counted(api, event):
    await api.post("/events", content=b"{")
    await api.post("/events", json=[event(resource={})])
    assert (await api.get("/stats")).json()["rejected"] == 2


@pytest.fixture
async def tiny_queue_engine(start_engine):
    return await start_engine(queue_limit=10)


async def test_a_full_write_queue_answers_503_with_retry_after(
    tiny_queue_engine, client_for, event
):
    engine, api = tiny_queue_engine, client_for(tiny_queue_engine)
    backlog = [ReceivedEvent.model_validate(event(resource_id=f"r.{n}")) for n in range(20_000)]
    committed = engine.submit(backlog)  # one submission may exceed the limit; it holds it
    response = await api.post("/events", json=[event()])
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "write queue is full" in response.json()["detail"][0]["msg"]
    await committed
    assert (await api.post("/events", json=[event()])).status_code == 204
    stats = (await api.get("/stats")).json()
    assert stats["overloaded"] == 1
    assert stats["stored_total"] == 20_001


async def test_a_closing_store_answers_503(engine, api, event):
    await engine.store.close()
    response = await api.post("/events", json=[event()])
    assert response.status_code == 503
    assert "Retry-After" in response.headers
