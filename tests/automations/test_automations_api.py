"""Prefect's automation REST API on a real server: paths, bodies, status codes, errors; replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from automation_helpers import CSV, eventually

from evtui.engine import Engine
from evtui.events import Event, now_utc

PREFECT_CLIENT_AUTOMATION = {
    # What Prefect 3's client sends: `AutomationCore.model_dump(mode="json")`, every field.
    "name": "woodchonk",
    "description": "",
    "enabled": True,
    "tags": [],
    "trigger": {
        "type": "event",
        "id": "8a3c2b52-6a1b-4e9f-9f5e-1c1bb3a4d5e6",
        "match": {"genus": "Marmota", "species": ["monax", "caligata"]},
        "match_related": {},
        "after": [],
        "expect": ["animal.walked"],
        "for_each": [],
        "posture": "Reactive",
        "threshold": 3,
        "within": 10.0,
    },
    "actions": [{"type": "do-nothing"}],
    "actions_on_trigger": [],
    "actions_on_resolve": [],
}


@pytest.fixture
async def api(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=engine.api_url, trust_env=False) as client:
        yield client


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/automations/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def detail(response: httpx.Response) -> list[tuple[str, str]]:
    return [(".".join(map(str, d["loc"])), d["msg"]) for d in response.json()["detail"]]


async def test_prefect_clients_create_read_update_pause_delete(api):
    response = await api.post("/automations/", json=PREFECT_CLIENT_AUTOMATION)
    assert response.status_code == 201
    created = response.json()
    automation_id = UUID(created["id"])  # what Prefect's create_automation reads
    assert created["trigger"]["id"] != PREFECT_CLIENT_AUTOMATION["trigger"]["id"]
    assert created["trigger"]["within"] == 10
    assert created["trigger"]["match"] == PREFECT_CLIENT_AUTOMATION["trigger"]["match"]

    read = await api.get(f"/automations/{automation_id}")
    assert read.status_code == 200
    assert read.json() == created

    # update_automation sends `model_dump(exclude_unset=True)`: only what was set.
    update = {"name": "woodchonk", "trigger": {"expect": ["animal.ran"]}, "actions": []}
    assert (await api.put(f"/automations/{automation_id}", json=update)).status_code == 204
    updated = (await api.get(f"/automations/{automation_id}")).json()
    assert updated["trigger"]["expect"] == ["animal.ran"]
    assert updated["trigger"]["posture"] == "Reactive"
    assert updated["created"] == created["created"]

    paused = await api.patch(f"/automations/{automation_id}", json={"enabled": False})
    assert paused.status_code == 204
    assert (await api.get(f"/automations/{automation_id}")).json()["enabled"] is False

    assert (await api.delete(f"/automations/{automation_id}")).status_code == 204
    assert (await api.get(f"/automations/{automation_id}")).status_code == 404
    assert (await api.delete(f"/automations/{automation_id}")).status_code == 404
    assert (await api.put(f"/automations/{automation_id}", json=update)).status_code == 404
    missing = await api.patch(f"/automations/{automation_id}", json={"enabled": True})
    assert missing.status_code == 404
    assert detail(missing) == [("path.id", f"no automation {automation_id}")]


async def test_collection_paths_work_with_and_without_the_slash(api):
    with_slash = await api.post("/automations/", json=CSV)
    without = await api.post("/automations", json={**CSV, "name": "second"})
    assert (with_slash.status_code, without.status_code) == (201, 201)
    count = await api.post("/automations/count")
    assert count.json() == 2


async def test_triggers_without_type_are_told_apart_like_prefects_client(api):
    event = {"expect": ["file.created"], "posture": "Reactive"}
    plain = await create(api, {**CSV, "trigger": event})
    assert plain["trigger"]["type"] == "event"
    compound = await create(api, {**CSV, "trigger": {"triggers": [event], "require": "any"}})
    assert compound["trigger"]["type"] == "compound"
    sequence = await create(api, {**CSV, "trigger": {"triggers": [event, event]}})
    assert sequence["trigger"]["type"] == "sequence"


@pytest.mark.parametrize(
    ("change", "loc", "reason"),
    [
        ({"name": None}, "body.name", "valid string"),
        ({"colour": "red"}, "body.colour", "Extra inputs are not permitted"),
        ({"actions": [{"type": "send-notification"}]}, "body.actions.0.type", ""),
        ({"trigger": {**CSV["trigger"], "threshold": 0}}, "body.trigger.threshold", "equal to 1"),
        (
            {"actions": [{"type": "run-flow", "flow": "f", "parameters": {"p": "{{ x "}}]},
            "body.actions.0.parameters.p",
            "line 1: ",
        ),
    ],
)
async def test_invalid_automations_are_refused_naming_the_field(api, change, loc, reason):
    response = await api.post("/automations/", json={**CSV, **change})
    assert response.status_code == 422
    [(where, msg)] = detail(response)[:1]
    assert where.startswith(loc), detail(response)
    assert reason in msg
    assert (await api.post("/automations/count")).json() == 0


async def test_filter_sorts_pages_and_filters_like_prefect(api):
    for name, tags in (("b", ["etl"]), ("a", ["etl", "nightly"]), ("c", [])):
        await create(api, {**CSV, "name": name, "tags": tags})

    async def names(body: dict[str, Any] | None = None) -> list[str]:
        response = await api.post("/automations/filter", json=body)
        assert response.status_code == 200, response.text
        return [automation["name"] for automation in response.json()]

    assert await names() == ["a", "b", "c"]
    # read_automations(): every key present, most of them null.
    assert await names({"automations": None, "sort": None, "limit": None, "offset": 0}) == [
        "a",
        "b",
        "c",
    ]
    assert await names({"sort": "NAME_DESC", "limit": 2}) == ["c", "b"]
    assert await names({"sort": "CREATED_DESC", "offset": 1}) == ["a", "b"]
    # read_automations_by_name(): Prefect 3.9's AutomationFilter dumped with its nulls.
    by_name = {"id": None, "name": {"any_": ["b"]}, "created": None, "tags": None}
    assert await names({"sort": "UPDATED_DESC", "automations": by_name}) == ["b"]
    listed = (await api.post("/automations/filter", json={})).json()
    by_id = {"id": {"any_": [listed[0]["id"], listed[2]["id"]]}}
    assert await names({"automations": by_id}) == ["a", "c"]
    assert await names({"automations": {"tags": {"all_": ["etl", "nightly"]}}}) == ["a"]
    assert await names({"automations": {"tags": {"any_": ["etl"]}}}) == ["a", "b"]
    assert await names({"automations": {"tags": {"is_null_": True}}}) == ["c"]
    past = {"created": {"before_": "2000-01-01T00:00:00Z"}}
    assert await names({"automations": past}) == []
    refused = await api.post("/automations/filter", json={"sort": "NAME_SIDEWAYS"})
    assert refused.status_code == 422
    assert detail(refused)[0][0] == "body.sort"


async def test_related_to_and_owned_by(api):
    runs_flow = await create(api, CSV)
    owned = await create(api, {**CSV, "name": "owned", "owner_resource": "prefect.deployment.1"})
    related = await api.get("/automations/related-to/evtui.flow.process_new_file")
    assert [a["id"] for a in related.json()] == [runs_flow["id"], owned["id"]]
    mine = await api.get("/automations/related-to/prefect.deployment.1")
    assert [a["id"] for a in mine.json()] == [owned["id"]]

    assert (await api.delete("/automations/owned-by/prefect.deployment.1")).status_code == 202
    assert (await api.get(f"/automations/{owned['id']}")).status_code == 404
    assert (await api.get(f"/automations/{runs_flow['id']}")).status_code == 200


@pytest.mark.parametrize("path", ["/templates/validate", "/automations/templates/validate"])
async def test_templates_validate(api, path):
    assert (await api.post(path, json="{{ event.id }} at {{ event.occurred }}")).status_code == 204
    assert (await api.post(path, json="no template at all")).status_code == 204
    source = "line one\n{{ event.id "
    response = await api.post(path, json=source)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["line"] == 2
    assert error["source"] == source
    assert error["message"]


async def test_replay_stores_a_new_event_that_follows_the_original(api, engine):
    original = Event(
        event="file.created",
        resource={"prefect.resource.id": "evtui.file.a.csv", "evtui.file.name": "a.csv"},
        related=[{"prefect.resource.id": "evtui.folder.inbox", "prefect.resource.role": "folder"}],
        payload={"size": 10},
    )
    await engine.ingest([original])

    response = await api.post(f"/events/{original.id}/replay")
    assert response.status_code == 201
    replay_id = response.json()["id"]
    stored = await engine.store.get_event(replay_id)
    assert stored is not None
    replay = stored.event
    assert replay.id != original.id
    assert replay.follows == original.id
    assert replay.event == "file.created"
    assert replay.resource == {**original.resource, "evtui.replay-of": str(original.id)}
    assert replay.related == original.related
    assert replay.payload == {"size": 10}

    missing = await api.post(f"/events/{uuid4()}/replay")
    assert missing.status_code == 404


def file_created(name: str, **fields: Any) -> Event:
    return Event(
        event="file.created",
        resource={"prefect.resource.id": f"evtui.file.{name}", "evtui.file.name": name},
        **fields,
    )


async def test_backtest_of_a_saved_and_a_draft_automation(api, engine):
    saved = await create(api, CSV)
    start = now_utc() - timedelta(minutes=1)
    await engine.ingest([file_created("a.csv"), file_created("b.txt"), file_created("c.csv")])

    response = await api.post(
        "/automations/test", json={"automation_id": saved["id"], "start": start.isoformat()}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["automation"] == {"id": saved["id"], "name": "csv to warehouse"}
    assert result["matched_count"] == 2
    assert len(result["firings"]) == 2

    txt = {**CSV, "trigger": {**CSV["trigger"], "match": {"evtui.file.name": "*.txt"}}}
    draft = await api.post(
        "/automations/test", json={"automation": txt, "start": start.isoformat()}
    )
    assert draft.status_code == 200, draft.text
    assert draft.json()["automation"]["id"] is None
    assert draft.json()["matched_count"] == 1


@pytest.mark.parametrize(
    ("body", "loc", "reason"),
    [
        ({}, "body.start", "Field required"),
        ({"start": "2025-01-01T00:00:00Z"}, "body", "give either automation_id"),
        (
            {
                "start": "2025-01-01T00:00:00Z",
                "automation": {
                    **CSV,
                    "actions": [{"type": "run-flow", "flow": "f", "parameters": {"p": "{{ x"}}],
                },
            },
            "body.automation.actions.0.parameters.p",
            "line 1: ",
        ),
        (
            {"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z", "automation": CSV},
            "body.end",
            "before start",
        ),
    ],
)
async def test_backtest_requests_are_checked(api, body, loc, reason):
    response = await api.post("/automations/test", json=body)
    assert response.status_code == 422
    where, msg = detail(response)[0]
    assert (where, reason in msg) == (loc, True), detail(response)


async def test_backtest_of_an_unknown_automation_is_404(api):
    body = {"automation_id": str(uuid4()), "start": "2025-01-01T00:00:00Z"}
    assert (await api.post("/automations/test", json=body)).status_code == 404


async def test_explain_says_why_an_event_did_not_fire(api, engine):
    saved = await create(api, CSV)
    txt = file_created("notes.txt")
    await engine.ingest([txt])

    response = await api.get(f"/events/{txt.id}/explain")
    assert response.status_code == 200, response.text
    [answer] = response.json()
    assert answer["automation_id"] == saved["id"]
    assert answer["status"] == "not_matched"
    assert "evtui.file.name" in answer["reason"]

    assert (await api.get(f"/events/{uuid4()}/explain")).status_code == 404


async def test_state_shows_the_live_buckets(api, engine):
    three = {**CSV, "trigger": {**CSV["trigger"], "threshold": 3, "within": 60}}
    saved = await create(api, three)
    await engine.ingest([file_created("a.csv")])

    async def counted() -> list[dict[str, Any]] | None:
        response = await api.get(f"/automations/{saved['id']}/state")
        assert response.status_code == 200, response.text
        buckets = response.json()
        return buckets if buckets and buckets[0]["count"] == 1 else None

    [bucket] = await eventually(counted, "the bucket to count the event")
    assert bucket["threshold"] == 3
    assert bucket["trigger_id"] == saved["trigger"]["id"]
    assert 0 < bucket["time_left"] <= 60

    assert (await api.get(f"/automations/{uuid4()}/state")).status_code == 404
