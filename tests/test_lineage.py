"""Lineage: from a run back to what caused it, and forward to what it caused, with real runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evtui.engine import Engine
from evtui.events import Event
from evtui.filters import EventFilter, EventNameFilter
from evtui.flows.records import FlowRun, RunCause
from evtui.lineage import emitting_run_id, lineage
from tests.server.test_runs_api import engine_with_flows, poll


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with engine_with_flows(tmp_path) as started:
        yield started


async def run_to_end(engine: Engine, flow: str, cause: RunCause, **parameters: Any) -> FlowRun:
    submitted = await engine.runner.submit(flow, parameters, cause)

    async def final() -> FlowRun | None:
        run = await engine.runner.runs.get_run(submitted.id)
        return run if run is not None and run.is_final else None

    run = await poll(final, f"{flow} run to finish")
    assert run.state == "Completed", run.state_message
    return run


async def emitted(engine: Engine, name: str) -> list[Event]:
    query = EventFilter(event=EventNameFilter(name=[name]), order="ASC")
    stored, _ = await engine.store.query_events(query, 10)
    return [item.event for item in stored]


def chain(nodes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(node["kind"], node["id"]) for node in nodes]


async def test_a_run_its_event_and_the_run_that_event_caused_link_both_ways(
    engine: Engine,
) -> None:
    a = await run_to_end(engine, "producer", RunCause(kind="manual"), tag="one")
    [x] = await emitted(engine, "custom.x")
    assert emitting_run_id(x) == a.id
    b = await run_to_end(engine, "consumer", RunCause(kind="automation", event_id=str(x.id)))

    forward = (await lineage(engine, a.id)).to_json()
    assert forward["run"]["id"] == a.id
    assert forward["upstream"] == []
    assert chain(forward["downstream"]) == [("event", str(x.id)), ("run", b.id)]
    event_node, run_node = forward["downstream"]
    assert (event_node["parent"], event_node["depth"]) == (a.id, 1)
    assert event_node["event"]["event"] == "custom.x"
    assert (run_node["parent"], run_node["depth"]) == (str(x.id), 2)
    assert run_node["run"]["flow"] == "consumer"
    assert forward["truncated"] is False

    backward = (await lineage(engine, b.id)).to_json()
    assert chain(backward["upstream"]) == [("run", a.id), ("event", str(x.id))]
    assert backward["upstream"][0]["run"]["flow"] == "producer"
    assert backward["downstream"] == []


async def test_lineage_follows_several_links_and_is_served_over_http(engine: Engine) -> None:
    a = await run_to_end(engine, "producer", RunCause(kind="api"), tag="first")
    [x] = await emitted(engine, "custom.x")
    b = await run_to_end(
        engine, "producer", RunCause(kind="automation", event_id=str(x.id)), tag="second"
    )
    [_, y] = await emitted(engine, "custom.x")
    c = await run_to_end(engine, "consumer", RunCause(kind="automation", event_id=str(y.id)))

    async with httpx.AsyncClient(base_url=engine.api_url, trust_env=False) as api:
        response = await api.get(f"/flow-runs/{c.id}/lineage")
        assert response.status_code == 200
        upstream = response.json()["upstream"]
        assert chain(upstream) == [
            ("run", a.id), ("event", str(x.id)), ("run", b.id), ("event", str(y.id))
        ]  # fmt: skip
        downstream = (await api.get(f"/flow-runs/{a.id}/lineage")).json()["downstream"]
    assert chain(downstream) == [
        ("event", str(x.id)), ("run", b.id), ("event", str(y.id)), ("run", c.id)
    ]  # fmt: skip
    assert [node["depth"] for node in downstream] == [1, 2, 3, 4]
    assert [node["parent"] for node in downstream] == [a.id, str(x.id), b.id, str(y.id)]


async def test_a_cause_no_longer_stored_is_shown_by_id_and_a_rerun_leads_to_its_original(
    engine: Engine,
) -> None:
    gone = str(uuid.uuid4())
    original = await run_to_end(engine, "consumer", RunCause(kind="automation", event_id=gone))
    upstream = (await lineage(engine, original.id)).to_json()["upstream"]
    assert upstream == [{"kind": "event", "id": gone, "event": None}]

    rerun = await engine.runner.rerun(original.id)
    upstream = (await lineage(engine, rerun.id)).to_json()["upstream"]
    assert chain(upstream) == [("event", gone), ("run", original.id)]


def test_the_emitting_run_is_read_from_the_related_flow_run() -> None:
    run_id = str(uuid.uuid4())
    event = Event(
        event="custom.x",
        resource={"prefect.resource.id": "custom.a"},
        related=[
            {"prefect.resource.id": "evtui.flow.producer", "prefect.resource.role": "flow"},
            {
                "prefect.resource.id": f"evtui.flow-run.{run_id}",
                "prefect.resource.role": "flow-run",
            },
        ],
    )
    assert emitting_run_id(event) == run_id
    assert emitting_run_id(Event(event="x", resource={"prefect.resource.id": "y"})) is None
