"""Version, health, stats, unknown routes and the OpenAPI document."""

from __future__ import annotations

import warnings

from evtui.engine import Engine
from evtui.server.app import create_app
from evtui.settings import Settings


async def test_admin_version_is_a_prefect_3_version(api):
    response = await api.get("/admin/version")
    assert response.status_code == 200
    major, minor, patch = response.json().split(".")
    assert major == "3"
    assert minor.isdigit()
    assert patch.isdigit()


async def test_health(api):
    response = await api.get("/health")
    assert (response.status_code, response.json()) == (200, True)


async def test_stats_count_what_happened(engine, api, event):
    sent = [event() for _ in range(4)]
    await api.post("/events", json=sent)
    await api.post("/events", json=sent[:1])
    await api.post("/events", json=[{"event": "x"}])
    stats = (await api.get("/stats")).json()
    assert stats["accepted"] == 4
    assert stats["duplicates"] == 1
    assert stats["rejected"] == 1
    assert stats["overloaded"] == 0
    assert stats["stored_total"] == 4
    assert stats["write_lag_seconds"] >= 0
    assert stats["address"] == engine.address
    assert [s["name"] for s in stats["subscribers"]] == ["automations"]


async def test_stats_show_each_subscriber(engine, api):
    with engine.subscribe("test watcher"):
        stats = (await api.get("/stats")).json()
    [subscriber] = [s for s in stats["subscribers"] if s["name"] != "automations"]
    assert subscriber["name"] == "test watcher"
    assert {"lag", "dropped", "delivered"} <= set(subscriber)


async def test_an_unknown_route_is_a_json_404(api, client_for, engine):
    response = await api.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {
        "detail": [{"loc": [], "msg": "no such endpoint: GET /api/no/such/thing"}]
    }


async def test_a_wrong_method_is_a_json_405(api):
    response = await api.get("/events")
    assert response.status_code == 405
    assert response.json()["detail"][0]["msg"] == "/api/events does not accept GET"


async def test_the_openapi_document_describes_the_events_endpoint(engine, client_for):
    root = client_for(engine)
    response = await root.get(engine.api_url.removesuffix("/api") + "/openapi.json")
    operation = response.json()["paths"]["/api/events"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    event_schema = schema["oneOf"][1]
    assert {"event", "resource"} <= set(event_schema["required"])
    assert {"204", "400", "413", "422", "503"} <= set(operation["responses"])


def test_every_operation_in_the_openapi_document_has_its_own_id(tmp_path) -> None:
    app = create_app(Engine(Settings(db=tmp_path / "e.db")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document = app.openapi()
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"get", "post", "put", "patch"} <= set(document["paths"]["/hooks/{slug}"])
