"""`LocalSource` against a real engine: every answer is the API's JSON, refusals name a field."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from panes_helpers import COUNT_TWO, GREET_ON_FILE, flow_settings
from polling import until
from tui_helpers import BASE_TIME, make_event

from evtui.engine import Engine
from evtui.tui.source import LocalSource, SourceError


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[LocalSource]:
    engine = Engine(flow_settings(tmp_path), serve_http=False)
    local = LocalSource(engine)
    await local.start()
    try:
        yield local
    finally:
        await local.stop()


async def final_run(source: LocalSource, run_id: str) -> dict[str, Any]:
    async def final() -> dict[str, Any] | None:
        run = await source.run(run_id)
        return run if run["state"] in {"Completed", "Failed", "Crashed", "Cancelled"} else None

    return await until(final, what=f"run {run_id} to finish")


async def test_events_read_replay_and_emit(source: LocalSource) -> None:
    await source.engine.ingest([make_event(i) for i in range(3)])
    latest = await source.latest_events(2)
    assert [s.event.id for s in latest] == [make_event(1).id, make_event(2).id]
    stored = await source.get_event(str(make_event(0).id))
    assert stored is not None and stored.event.payload == {"index": 0}

    replay = await source.replay(str(make_event(0).id))
    assert replay["follows"] == str(make_event(0).id)
    assert replay["resource"]["evtui.replay-of"] == str(make_event(0).id)
    assert await source.get_event(replay["id"]) is not None

    emitted = await source.emit({"event": "test.hello", "resource": {"prefect.resource.id": "x"}})
    assert (await source.get_event(emitted["id"])) is not None
    with pytest.raises(SourceError) as refused:
        await source.emit({"event": "test.hello"})
    assert refused.value.problems[0].loc == ["resource"]
    with pytest.raises(SourceError) as missing:
        await source.replay("00000000-0000-0000-0000-00000000ffff")
    assert missing.value.problems[0].loc == ["event_id"]


async def test_subscribe_events_yields_committed_batches(source: LocalSource) -> None:
    batches = source.subscribe_events()
    first = anext(batches)
    pending = source.engine.ingest([make_event(7)])
    batch, _ = await asyncio.gather(first, pending)
    assert [s.event.id for s in batch] == [make_event(7).id]
    await batches.aclose()
    assert not [s for s in source.engine.bus.stats() if s.name == "tui"]


async def test_a_run_from_start_to_logs_rerun_and_lineage(source: LocalSource) -> None:
    [flow] = [f for f in await source.flows() if f["name"] == "greet"]
    assert set(flow["parameters_schema"]["properties"]) == {"name", "lines"}

    started = await source.start_run("greet", {"name": "ada", "lines": 3})
    assert started["cause"]["kind"] == "manual"
    followed = [line async for batch in source.follow_logs(started["id"]) for line in batch]
    assert [line["message"] for line in followed if "hello" in line["message"]] == [
        "hello ada 0",
        "hello ada 1",
        "hello ada 2",
    ]
    run = await final_run(source, started["id"])
    assert run["state"] == "Completed"
    assert [s["state"] for s in run["states"]][-1] == "Completed"
    logs = await source.logs(started["id"])
    assert [line["seq"] for line in logs] == [line["seq"] for line in followed]
    assert await source.logs(started["id"], after=logs[-1]["seq"]) == []

    again = await source.rerun(started["id"])
    assert again["cause"] == {
        "kind": "rerun",
        "event_id": None,
        "automation_id": None,
        "rerun_of": started["id"],
    }
    assert (await final_run(source, again["id"]))["parameters"] == {"name": "ada", "lines": 3}
    assert [r["id"] for r in await source.runs()] == [again["id"], started["id"]]
    chain = await source.lineage(again["id"])
    assert chain["run"]["id"] == again["id"]
    assert [node["id"] for node in chain["upstream"]] == [started["id"]]

    with pytest.raises(SourceError) as unknown:
        await source.start_run("nope", {})
    assert unknown.value.problems[0].loc == ["flow"]
    with pytest.raises(SourceError) as finished:
        await source.cancel_run(started["id"])
    assert "already finished" in finished.value.problems[0].msg


async def test_cancel_stops_a_running_flow(source: LocalSource, tmp_path: Path) -> None:
    started = await source.start_run("hold", {"release": str(tmp_path / "never")})

    async def running() -> bool:
        return (await source.run(started["id"]))["state"] == "Running"

    await until(running, what="the run to start")
    cancelled = await source.cancel_run(started["id"])
    assert cancelled["state"] in {"Cancelling", "Cancelled"}
    assert (await final_run(source, started["id"]))["state"] == "Cancelled"


async def test_automations_fire_and_are_listed_with_state(source: LocalSource) -> None:
    greet = await source.save_automation(GREET_ON_FILE)
    counting = await source.save_automation(COUNT_TWO)
    await source.engine.ingest([make_event(1, "file.created")])
    await source.emit({"event": "report.ready", "resource": {"prefect.resource.id": "r"}})

    async def fired() -> list[dict[str, Any]]:
        firings = await source.firings()
        done = [f for f in firings if f["actions"] and f["actions"][0]["state"] == "executed"]
        return done

    [firing] = await until(fired, what="the automation to fire and act")
    assert firing["automation_id"] == greet["id"]
    assert firing["automation_name"] == "greet new files"
    assert firing["triggering_event_id"] == str(make_event(1).id)
    assert firing["actions"][0]["action_type"] == "run-flow"
    [run] = await source.runs()
    assert run["cause"]["automation_id"] == greet["id"]
    assert run["parameters"] == {"name": "report-1.csv"}

    listed = {a["name"]: a for a in await source.automations()}
    assert listed["greet new files"]["fired"] == 1
    assert listed["greet new files"]["paused"] is None
    [bucket] = listed["two reports in an hour"]["state"]
    assert (bucket["count"], bucket["threshold"]) == (1, 2)
    assert 3500 < bucket["time_left"] <= 3600
    explained = {a["name"]: a for a in await source.explain(str(make_event(1).id))}
    assert explained["greet new files"]["status"] == "fired"

    await source.set_enabled(counting["id"], False)
    assert not {a["name"]: a for a in await source.automations()}[COUNT_TWO["name"]]["enabled"]
    await source.delete_automation(counting["id"])
    assert [a["name"] for a in await source.automations()] == ["greet new files"]
    with pytest.raises(SourceError) as gone:
        await source.set_enabled(counting["id"], True)
    assert gone.value.problems[0].loc == ["id"]


async def test_saving_and_backtesting_refuse_bad_fields(source: LocalSource) -> None:
    bad = {**GREET_ON_FILE, "trigger": {**GREET_ON_FILE["trigger"], "threshold": 0}}
    with pytest.raises(SourceError) as refused:
        await source.save_automation(bad)
    assert refused.value.problems[0].loc == ["trigger", "threshold"]
    template = {
        **GREET_ON_FILE,
        "actions": [{"type": "run-flow", "flow": "greet", "parameters": {"name": "{{ oops"}}],
    }
    with pytest.raises(SourceError) as broken:
        await source.save_automation(template)
    assert broken.value.problems[0].loc[:2] == ["actions", 0]

    saved = await source.save_automation(COUNT_TWO)
    renamed = await source.save_automation({**COUNT_TWO, "name": "renamed"}, saved["id"])
    assert (renamed["id"], renamed["name"]) == (saved["id"], "renamed")

    await source.engine.ingest([make_event(i, "file.created") for i in range(3)])
    result = await source.backtest(GREET_ON_FILE, BASE_TIME, BASE_TIME + timedelta(hours=1))
    assert len(result["firings"]) == 3
    with pytest.raises(SourceError) as backwards:
        await source.backtest(GREET_ON_FILE, BASE_TIME, BASE_TIME - timedelta(hours=1))
    assert backwards.value.problems[0].loc == ["end"]
