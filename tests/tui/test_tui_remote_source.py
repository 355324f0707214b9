"""`RemoteSource`: the TUI's interface over HTTP and websockets, against a real `evtui` server.

The same questions `LocalSource` answers from the engine are asked of a server on a loopback
port, so `evtui --connect URL` shows what a local TUI would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from polling import until
from tui_helpers import screen_lines

from evtui.automations.rate_cap import RateCap
from evtui.engine import Engine
from evtui.events import Event, now_utc
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.remote_source import RemoteSource
from evtui.tui.source import SourceError
from evtui.tui.widgets.event_list import EventList

FLOW = """
from evtui import emit_event, flow, get_run_logger


@flow
def greet(name: str = "world"):
    get_run_logger().info("hello %s", name)
    emit_event("custom.greeted", resource={"prefect.resource.id": f"person.{name}"})
"""

AUTOMATION = {
    "name": "greet on arrival",
    "trigger": {"type": "event", "posture": "Reactive", "expect": ["person.arrived"]},
    "actions": [
        {"type": "run-flow", "flow": "greet", "parameters": {"name": "{{ event.payload.name }}"}}
    ],
}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Engine]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "greet.py").write_text(FLOW)
    settings = Settings(db=tmp_path / "e.db", port=0, flows=[flows], api_key="sesame")
    async with Engine(settings) as engine:
        yield engine


@pytest.fixture
async def remote(served: Engine) -> AsyncIterator[RemoteSource]:
    source = RemoteSource(served.api_url, api_key="sesame")
    await source.start()
    yield source
    await source.stop()


async def test_a_wrong_key_or_no_server_is_a_clear_error(served: Engine) -> None:
    with pytest.raises(SourceError, match=r"401|API key|token"):
        await RemoteSource(served.api_url, api_key="wrong").start()
    with pytest.raises(SourceError, match=r"cannot reach http://127\.0\.0\.1:9/api"):
        await RemoteSource("http://127.0.0.1:9").start()


async def test_automations_runs_logs_firings_and_lineage_over_http(
    remote: RemoteSource, served: Engine
) -> None:
    assert remote.stats()["address"].endswith("(remote)")
    [greet] = await remote.flows()
    assert greet["name"] == "greet"
    saved = await remote.save_automation(AUTOMATION)
    with pytest.raises(SourceError) as refused:
        await remote.save_automation({**AUTOMATION, "trigger": {"type": "event", "treshold": 2}})
    assert refused.value.problems[0].loc[:2] == ["trigger", "treshold"]

    arrival = await remote.emit(
        {
            "event": "person.arrived",
            "resource": {"prefect.resource.id": "door.front"},
            "payload": {"name": "ada"},
        }
    )

    async def completed() -> list[dict] | None:
        runs = await remote.runs()
        return runs if runs and runs[0]["state"] == "Completed" else None

    [run] = await until(completed, what="the triggered run to complete")
    assert run["parameters"] == {"name": "ada"}
    assert run["cause"]["event_id"] == arrival["id"]
    detail = await remote.run(run["id"])
    assert [s["state"] for s in detail["states"]][-1] == "Completed"
    assert [line["message"] for line in await remote.logs(run["id"])] == ["hello ada"]
    followed = [batch async for batch in remote.follow_logs(run["id"])]
    assert [line["message"] for batch in followed for line in batch] == ["hello ada"]

    [automation] = await remote.automations()
    assert (automation["id"], automation["fired"]) == (saved["id"], 1)
    [firing] = await remote.firings()
    assert firing["triggering_event_id"] == arrival["id"]
    assert firing["actions"][0]["state"] == "executed"
    assert await remote.firing(firing["id"]) == firing
    chain = await remote.lineage(run["id"])
    assert [node["kind"] for node in chain["upstream"]] == ["event", "firing"]
    [explained] = await remote.explain(arrival["id"])
    assert explained["status"] == "fired"

    await remote.set_enabled(saved["id"], False)
    assert (await remote.automations())[0]["enabled"] is False
    week = timedelta(days=7)
    tested = await remote.backtest(AUTOMATION, now_utc() - week, now_utc() + week)
    assert len(tested["firings"]) == 1
    rerun = await remote.rerun(run["id"])
    assert rerun["cause"]["kind"] == "rerun"
    with pytest.raises(SourceError, match="no flow run"):
        await remote.run("nope")


async def test_a_rate_capped_automation_says_why_over_http(
    remote: RemoteSource, served: Engine
) -> None:
    served.actions.rate_cap = RateCap(limit=2, seconds=60)
    saved = await remote.save_automation(
        {**AUTOMATION, "actions": [{"type": "do-nothing"}], "name": "runaway"}
    )
    arrival = {"event": "person.arrived", "resource": {"prefect.resource.id": "door.front"}}
    for _ in range(3):
        await remote.emit(arrival)

    async def paused() -> dict | None:
        [automation] = await remote.automations()
        return automation if automation["paused"] else None

    automation = await until(paused, what="the rate cap to pause the automation")
    assert (automation["id"], automation["enabled"]) == (saved["id"], False)
    assert automation["paused"] == "rate cap: 2 firings in 60 s"
    assert (automation["fired"], automation["file"]) == (3, None)


async def test_events_stored_and_live_and_replayed(remote: RemoteSource, served: Engine) -> None:
    first = await remote.emit({"event": "a.one", "resource": {"prefect.resource.id": "r.1"}})
    stream = remote.subscribe_events()
    [latest] = await remote.latest_events(10)
    assert str(latest.event.id) == first["id"]
    assert (await remote.get_event(first["id"])) is not None

    async def next_names() -> list[str]:
        batch = await anext(stream)
        return [stored.event.event for stored in batch]

    receiving = asyncio.create_task(next_names())

    async def subscribed() -> bool:
        return len(served.bus.stats()) > 1  # the automation service's, and this socket

    await until(subscribed, what="the stream to subscribe")
    copy = await remote.replay(first["id"])
    assert copy["follows"] == first["id"]
    assert await receiving == ["a.one"]
    await stream.aclose()


async def test_the_tui_attached_remotely_shows_the_servers_events(served: Engine) -> None:
    app = EvtuiApp(RemoteSource(served.api_url, api_key="sesame"))
    async with app.run_test(size=(120, 30)) as pilot:
        event_list = app.query_one(EventList)

        async def streaming() -> bool:
            await pilot.pause()
            return len(served.bus.stats()) > 1  # the automation service's, and the app's socket

        await until(streaming, what="the app to subscribe")
        await served.ingest([Event(event="remote.hello", resource={"prefect.resource.id": "x"})])

        async def shown() -> bool:
            await pilot.pause()
            return any("remote.hello" in line for line in screen_lines(event_list))

        await until(shown, what="the event on screen")
