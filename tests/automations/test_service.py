"""The live evaluator on a real engine: committed events in, firings out, state in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from polling import until
from service_helpers import caught_up, create, eventually, file_event, running

from evtui.engine import Engine
from evtui.events import Event, ReceivedEvent, now_utc
from evtui.settings import Settings
from evtui.store import Store
from evtui.store.rows import to_micros

CSV_TRIGGER = {"type": "event", "expect": ["file.created"], "match": {"evtui.file.name": "*.csv"}}


async def test_committed_events_fire_matching_automations(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        automation = await create(run.engine, name="csv", trigger=CSV_TRIGGER)
        await run.engine.ingest([file_event("a.txt"), file_event("a.csv")])
        firing = (await eventually(lambda: run.fired, "a firing"))[0]
        assert firing.automation.id == automation.id
        assert firing.triggering_event.resource["evtui.file.name"] == "a.csv"
        assert firing.state == "Triggered"
        assert len(run.fired) == 1


async def test_buckets_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    trigger = {**CSV_TRIGGER, "threshold": 2, "within": 3600}
    async with running(db) as run:
        await create(run.engine, name="two files", trigger=trigger)
        await run.engine.ingest([file_event("1.csv")])
        await eventually(lambda: caught_up(run), "the first event evaluated")
        assert not run.fired
    async with running(db) as run:
        [automation] = run.engine.automations.all()
        [view] = run.service.state(automation.id)
        assert (view.count, view.threshold) == (1, 2)
        await run.engine.ingest([file_event("2.csv")])
        firing = (await eventually(lambda: run.fired, "the second file to fire"))[0]
        assert firing.count == 2


async def test_a_proactive_window_that_ended_while_stopped_fires_at_start(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    trigger = {
        "type": "event",
        "posture": "Proactive",
        "after": ["job.started"],
        "expect": ["job.finished"],
        "within": 60,
    }
    started = Event(event="job.started", resource={"prefect.resource.id": "job.1"})
    async with running(db) as run:
        await create(run.engine, name="stuck job", trigger=trigger)
        await run.engine.ingest([started])
        await eventually(lambda: run.service.state(run.engine.automations.all()[0].id), "armed")
    # Time passes while evtui is stopped: the armed window ended a while ago.
    with sqlite3.connect(db) as conn:
        past = now_utc() - timedelta(seconds=30)
        conn.execute(
            "UPDATE automation_buckets SET start = ?, end = ?",
            (to_micros(past - timedelta(seconds=60)), to_micros(past)),
        )
    async with running(db) as run:
        firing = (await eventually(lambda: run.fired, "the start-up sweep to fire"))[0]
        assert firing.triggering_event.id == started.id
        assert run.service.state(firing.automation.id) == []


async def test_events_committed_while_the_service_was_down_are_evaluated(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    async with running(db) as run:
        await create(run.engine, name="csv", trigger=CSV_TRIGGER)
        await run.engine.ingest([file_event("first.csv")])
        await eventually(lambda: run.fired, "the first firing")
        await run.service.stop()
        await run.engine.ingest([file_event("missed.csv")])
    async with running(db) as run:
        firing = (await eventually(lambda: run.fired, "the missed event's firing"))[0]
        assert firing.triggering_event.resource["evtui.file.name"] == "missed.csv"
        assert len(run.fired) == 1


async def test_events_stored_while_the_engine_starts_are_news_and_older_ones_history(
    tmp_path: Path,
) -> None:
    """A new database (no saved cursor): what was stored before this start never fires, but an
    automation saved and an event sent while the engine is still starting (a TUI's first
    keys, an early HTTP client) are evaluated, whenever the service itself starts."""
    db = tmp_path / "e.db"
    async with Store(db) as store:
        await store.write([ReceivedEvent.model_validate(file_event("old.csv").model_dump())])
    engine = Engine(Settings(db=db, port=0, spare_children=0), serve_http=False)
    actions_start = engine.actions.start

    async def meanwhile() -> None:
        await actions_start()
        await create(engine, name="csv", trigger=CSV_TRIGGER)
        await engine.ingest([file_event("early.csv")])

    engine.actions.start = meanwhile  # type: ignore[method-assign]
    async with engine:
        early = await until(lambda: _file_ids(engine, "early.csv"), what="the early event")
        [firing] = await until(engine.actions.firings.recent, what="the early event's firing")
        assert firing.triggering_event_id == early
        await eventually(lambda: engine.automation_service.cursor >= engine.bus.head, "all seen")
        assert len(await engine.actions.firings.recent()) == 1  # old.csv is history


async def _file_ids(engine: Engine, name: str) -> str | None:
    for stored in await engine.store.latest(100):
        if stored.event.resource.get("evtui.file.name") == name:
            return str(stored.event.id)
    return None


async def test_changes_to_automations_reload_the_evaluator(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        automation = await create(
            run.engine, name="csv", trigger={**CSV_TRIGGER, "threshold": 5, "within": 600}
        )
        await run.engine.ingest([file_event("a.csv")])
        await eventually(lambda: run.service.state(automation.id), "a bucket")
        await run.engine.automations.set_enabled(automation.id, False)
        await run.engine.ingest([file_event("b.csv")])
        await eventually(lambda: caught_up(run), "the second event evaluated")
        [view] = run.service.state(automation.id) or [None]
        assert view is None  # disabled: not evaluated, so not shown
        await run.engine.automations.delete(automation.id)
        assert not list(run.service.buckets.all_buckets())


async def test_state_shows_each_bucket(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        automation = await create(
            run.engine,
            name="per file",
            trigger={**CSV_TRIGGER, "threshold": 3, "within": 600, "for_each": ["evtui.file.name"]},
        )
        await run.engine.ingest([file_event("a.csv"), file_event("b.csv"), file_event("a.csv")])
        await eventually(lambda: len(run.service.state(automation.id)) == 2, "two buckets")
        views = {v.labels["evtui.file.name"]: v for v in run.service.state(automation.id)}
        assert (views["a.csv"].count, views["b.csv"].count) == (2, 1)
        assert views["a.csv"].threshold == 3
        assert 0 < views["a.csv"].time_left <= 600
        assert views["a.csv"].as_json()["key"] == ["a.csv"]


async def test_a_follower_of_a_stored_event_is_not_held(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        await create(run.engine, name="csv", trigger=CSV_TRIGGER)
        leader = file_event("leader.txt")
        await run.engine.ingest([leader])
        await eventually(lambda: caught_up(run), "the leader evaluated")
    # After a restart the seen-cache is empty; the leader is in the store, so no waiting.
    async with running(tmp_path / "e.db") as run:
        await run.engine.ingest([file_event("again.csv", follows=leader.id)])
        await eventually(lambda: run.fired, "the follower's firing")
