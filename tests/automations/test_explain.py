"""Why didn't it fire: one answer per automation for a stored event."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from service_helpers import caught_up, create, eventually, file_event, running

from evtui.automations.explain import EventNotFound, explain
from evtui.automations.firings import FiringStore
from evtui.events import Event, now_utc

CSV = {"type": "event", "expect": ["file.created"], "match": {"evtui.file.name": "*.csv"}}


async def test_each_automation_says_why(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        engine = run.engine
        csv = await create(engine, name="csv", trigger=CSV)
        three = await create(engine, name="three", trigger={**CSV, "threshold": 3, "within": 600})
        off = await create(engine, name="off", trigger=CSV, enabled=False)
        armed = await create(
            engine,
            name="after start",
            trigger={**CSV, "after": ["job.started"], "within": 600},
        )
        txt, data = file_event("notes.txt"), file_event("data.csv")
        await engine.ingest([txt, data])
        await eventually(lambda: caught_up(run), "the events evaluated")

        by_name = {a["name"]: a for a in await explain(engine, str(txt.id), run.service)}
        assert by_name["csv"]["status"] == "not_matched"
        assert by_name["csv"]["reason"] == (
            "resource label 'evtui.file.name' is 'notes.txt', not '*.csv'"
        )
        assert by_name["off"]["status"] == "disabled"

        by_name = {a["name"]: a for a in await explain(engine, str(data.id), run.service)}
        assert by_name["three"]["status"] == "counting"
        assert by_name["three"]["reason"].startswith("counted 1 of 3 in a window that ends at ")
        assert by_name["after start"]["status"] == "not_armed"
        assert by_name["csv"]["status"] == "not_counted"  # no firing stored (no action runner)
        assert {a["automation_id"] for a in by_name.values()} == {
            str(a.id) for a in (csv, three, off, armed)
        }


async def test_the_firing_an_event_caused(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        automation = await create(run.engine, name="csv", trigger=CSV)
        data = file_event("data.csv")
        await run.engine.ingest([data])
        [firing] = await eventually(lambda: run.fired, "the firing")
        await FiringStore(run.engine.store).record_firing(firing, str(uuid.uuid4()))
        [answer] = await explain(run.engine, str(data.id), run.service)
    assert answer["status"] == "fired"
    assert answer["firings"][0]["id"] == str(firing.id)
    assert answer["automation_id"] == str(automation.id)


async def test_armed_by_an_after_event(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        await create(
            run.engine,
            name="after start",
            trigger={
                "type": "event",
                "after": ["job.started"],
                "expect": ["job.done"],
                "within": 600,
            },
        )
        start = Event(
            event="job.started", resource={"prefect.resource.id": "job"}, occurred=now_utc()
        )
        await run.engine.ingest([start])
        await eventually(lambda: caught_up(run), "evaluated")
        [answer] = await explain(run.engine, str(start.id), run.service)
    assert answer["status"] == "armed"
    assert answer["reason"].startswith("armed the trigger: a window until ")


async def test_an_unknown_event(tmp_path: Path) -> None:
    async with running(tmp_path / "e.db") as run:
        with pytest.raises(EventNotFound):
            await explain(run.engine, str(uuid.uuid4()), run.service)
