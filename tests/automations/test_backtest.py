"""Backtest over stored events: matches, firings with their bucket timeline, rendered actions,
and the difference from what actually fired."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from service_helpers import create, file_event, running

from evtui.automations.backtest import backtest
from evtui.automations.firing import Firing
from evtui.automations.firings import FiringStore
from evtui.automations.models import AutomationCreate
from evtui.events import Event, now_utc

RUN_FLOW = {
    "type": "run-flow",
    "flow": "process_new_file",
    "parameters": {"path": "{{ event.resource['evtui.file.name'] }}", "n": "{{ firing.count }}"},
}


async def test_a_saved_automation_over_stored_events(tmp_path: Path) -> None:
    base = now_utc() - timedelta(hours=1)
    async with running(tmp_path / "e.db", start_service=False) as run:
        automation = await create(
            run.engine,
            name="pairs of csv files",
            trigger={
                "type": "event",
                "expect": ["file.created"],
                "match": {"evtui.file.name": "*.csv"},
                "threshold": 2,
                "within": 60,
            },
            actions=[
                RUN_FLOW,
                {"type": "run-flow", "flow": "x", "parameters": {"v": "{{ 1 // 0 }}"}},
            ],
        )
        events = [
            file_event(name, occurred=base + timedelta(seconds=offset))
            for name, offset in [("a.csv", 0), ("b.txt", 5), ("c.csv", 10), ("d.csv", 100)]
        ]
        noise = [Event(event="other", resource={"prefect.resource.id": "x"}, occurred=base)]
        await run.engine.ingest(events + noise)
        result = await backtest(run.engine, automation, base, base + timedelta(minutes=10))

    assert result["matched_count"] == 3
    assert [m["id"] for m in result["matched"]] == [str(events[i].id) for i in (0, 2, 3)]
    assert result["events_scanned"] == 4  # "other" is never read
    [firing] = result["firings"]
    assert firing["triggering_event_id"] == str(events[2].id)
    assert firing["count"] == 2
    [timeline] = firing["buckets"]
    assert [state.get("count") for state in timeline["states"]][:2] == [0, 1]
    first, second = firing["actions"]
    assert first["parameters"]["parameters"] == {"path": "c.csv", "n": 2}
    assert "errors" not in first
    assert second["errors"] == [
        "parameters: line 1: ZeroDivisionError: integer division or modulo by zero"
    ]
    assert result["difference"] == {
        "would_fire_but_did_not": [str(events[2].id)],
        "fired_but_would_not": [],
        "same": [],
    }


async def test_the_difference_from_what_actually_fired(tmp_path: Path) -> None:
    base = now_utc() - timedelta(hours=1)
    async with running(tmp_path / "e.db", start_service=False) as run:
        automation = await create(
            run.engine,
            name="csv",
            trigger={
                "type": "event",
                "expect": ["file.created"],
                "match": {"evtui.file.name": "*.csv"},
            },
        )
        hit, other = file_event("a.csv", occurred=base), file_event("b.csv", occurred=base)
        await run.engine.ingest([hit])
        stray = uuid.uuid4()
        for event_id in (hit.id, stray):
            triggering = hit.receive() if event_id == hit.id else other.receive()
            triggering = triggering.model_copy(update={"id": event_id})
            firing = Firing(
                uuid.uuid4(),
                automation,
                automation.trigger.id,
                "Triggered",
                base + timedelta(seconds=1),
                triggering,
                [triggering],
                {},
                "[]",
                1,
            )
            await FiringStore(run.engine.store).record_firing(firing, str(uuid.uuid4()))
        result = await backtest(run.engine, automation, base, base + timedelta(minutes=1))
    assert result["difference"] == {
        "would_fire_but_did_not": [],
        "fired_but_would_not": [str(stray)],
        "same": [str(hit.id)],
    }


async def test_a_draft_proactive_automation(tmp_path: Path) -> None:
    base = now_utc() - timedelta(hours=1)
    draft = AutomationCreate.model_validate(
        {
            "name": "stuck jobs",
            "trigger": {
                "type": "event",
                "posture": "Proactive",
                "after": ["job.started"],
                "expect": ["job.finished"],
                "for_each": ["prefect.resource.id"],
                "within": 30,
            },
            "actions": [],
        }
    )

    def job(name: str, job_id: str, offset: float) -> Event:
        return Event(
            event=name,
            resource={"prefect.resource.id": job_id},
            occurred=base + timedelta(seconds=offset),
        )

    started = job("job.started", "job.2", 5)
    async with running(tmp_path / "e.db", start_service=False) as run:
        await run.engine.ingest(
            [job("job.started", "job.1", 0), started, job("job.finished", "job.1", 10)]
        )
        result = await backtest(run.engine, draft, base, base + timedelta(minutes=5))
    assert result["automation"]["id"] is None and result["difference"] is None
    [firing] = result["firings"]
    assert firing["triggering_event_id"] == str(started.id)
    assert firing["triggering_labels"] == {"prefect.resource.id": "job.2"}
    assert firing["occurred"] == (base + timedelta(seconds=35)).isoformat()
