"""The `cloudevents` preset with the examples of the CloudEvents 1.0 spec: structured, binary,
batched, and the webhook abuse-protection handshake."""

from __future__ import annotations

import json
import uuid

from evtui.engine import Engine
from evtui.webhooks.presets.common import stable_id

STRUCTURED = {
    "specversion": "1.0",
    "type": "com.github.pull_request.opened",
    "source": "https://github.com/cloudevents/spec/pull",
    "subject": "123",
    "id": "A234-1234-1234",
    "time": "2018-04-05T17:31:00Z",
    "comexampleextension1": "value",
    "comexampleothervalue": 5,
    "datacontenttype": "text/xml",
    "data": '<much wow="xml"/>',
}
"""The JSON event format's example (formats/json-format.md §3)."""

BINARY_HEADERS = {
    "ce-specversion": "1.0",
    "ce-type": "com.example.someevent",
    "ce-time": "2018-04-05T03:56:24Z",
    "ce-id": "1234-1234-1234",
    "ce-source": "/mycontext/subcontext",
    "Content-Type": "application/json; charset=utf-8",
}
"""The HTTP binding's binary-mode example (bindings/http-protocol-binding.md §3.1.4)."""


async def test_structured_mode(http, engine: Engine, add, events):
    await add(http, "ce", preset="cloudevents")

    response = await http.post(
        "/hooks/ce",
        content=json.dumps(STRUCTURED),
        headers={"Content-Type": "application/cloudevents+json; charset=utf-8"},
    )

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["id"] == str(
        stable_id("cloudevents", "https://github.com/cloudevents/spec/pull", "A234-1234-1234")
    )
    assert uuid.UUID(event["id"]).version == 5
    assert event["event"] == "com.github.pull_request.opened"
    assert event["occurred"] == "2018-04-05T17:31:00Z"
    assert event["resource"] == {
        "prefect.resource.id": "https://github.com/cloudevents/spec/pull/123",
        "prefect.resource.name": "123",
        "cloudevents.source": "https://github.com/cloudevents/spec/pull",
        "cloudevents.type": "com.github.pull_request.opened",
        "cloudevents.subject": "123",
    }
    assert event["payload"]["data"] == '<much wow="xml"/>'
    attributes = {k: v for k, v in STRUCTURED.items() if k != "data"}
    assert event["payload"]["cloudevents"] == attributes


async def test_binary_mode(http, engine: Engine, add, events):
    await add(http, "ce", preset="cloudevents")

    response = await http.post(
        "/hooks/ce", content=json.dumps({"rows": 3, "file": "a b.csv"}), headers=BINARY_HEADERS
    )

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["event"] == "com.example.someevent"
    assert event["resource"]["prefect.resource.id"] == "/mycontext/subcontext"
    assert event["occurred"] == "2018-04-05T03:56:24Z"
    assert event["payload"]["data"] == {"rows": 3, "file": "a b.csv"}
    assert event["payload"]["cloudevents"] == {
        "specversion": "1.0",
        "type": "com.example.someevent",
        "time": "2018-04-05T03:56:24Z",
        "id": "1234-1234-1234",
        "source": "/mycontext/subcontext",
        "datacontenttype": "application/json; charset=utf-8",
    }


async def test_binary_headers_are_percent_decoded(http, engine: Engine, add, events):
    await add(http, "ce", preset="cloudevents")
    headers = {**BINARY_HEADERS, "ce-subject": "caf%C3%A9%20menu.csv", "Content-Type": "text/plain"}

    response = await http.post("/hooks/ce", content=b"hello", headers=headers)

    assert response.status_code == 200, response.text
    [event] = await events(engine)
    assert event["resource"]["prefect.resource.id"] == "/mycontext/subcontext/café menu.csv"
    assert event["payload"]["data"] == "hello"


async def test_a_batch_and_redelivery(http, engine: Engine, add, events):
    await add(http, "ce", preset="cloudevents")
    second = {**STRUCTURED, "id": "A234-1234-1235", "subject": "124"}
    batch = json.dumps([STRUCTURED, second])
    headers = {"Content-Type": "application/cloudevents-batch+json"}

    first = await http.post("/hooks/ce", content=batch, headers=headers)
    again = await http.post("/hooks/ce", content=batch, headers=headers)

    assert first.json()["stored"] == 2
    assert again.json()["duplicates"] == 2
    subjects = [e["resource"]["cloudevents.subject"] for e in await events(engine)]
    assert sorted(subjects) == ["123", "124"]


async def test_missing_required_attributes_are_422_naming_them(http, engine: Engine, add):
    await add(http, "ce", preset="cloudevents")
    headers = {k: v for k, v in BINARY_HEADERS.items() if k != "ce-source"}

    structured = await http.post(
        "/hooks/ce",
        content=json.dumps({k: v for k, v in STRUCTURED.items() if k != "type"}),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    binary = await http.post("/hooks/ce", content=b"{}", headers=headers)

    assert structured.status_code == 422
    assert structured.json()["detail"] == [{"loc": ["body", "type"], "msg": "Field required"}]
    assert binary.status_code == 422
    assert binary.json()["detail"] == [{"loc": ["header", "ce-source"], "msg": "Field required"}]
    assert engine.store.stats.total == 0


async def test_a_body_that_is_no_cloudevent_is_415(http, add):
    await add(http, "ce", preset="cloudevents")

    response = await http.post(
        "/hooks/ce", content=b"hello", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415


async def test_the_abuse_protection_handshake(http, add):
    await add(http, "ce", preset="cloudevents")

    response = await http.options(
        "/hooks/ce", headers={"WebHook-Request-Origin": "eventemitter.example.com"}
    )
    unknown = await http.options("/hooks/nope", headers={"WebHook-Request-Origin": "x"})

    assert response.status_code == 200
    assert response.headers["WebHook-Allowed-Origin"] == "eventemitter.example.com"
    assert response.headers["WebHook-Allowed-Rate"] == "*"
    assert "POST" in response.headers["Allow"]
    assert unknown.status_code == 404
