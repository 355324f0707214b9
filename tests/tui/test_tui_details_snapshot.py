"""Snapshots of the event detail (with explain) and the run detail, from pinned data.

Plain `def` tests (snap_compare runs the app itself). Pinned: event ids and times, the firing's
id and time (the evaluator's id source and clock while seeding), the run, its states, task and
log lines (written through the run store with fixed ids and times), the time zone (UTC).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from details_helpers import DetailsApp
from textual.pilot import Pilot
from tui_helpers import BASE_TIME, RETENTION_DAYS, make_event, subscribed, until

from evtui.automations.models import AutomationCreate
from evtui.engine import Engine
from evtui.flows.records import FlowRun, LogRecord, RunCause, StateRecord, TaskRun
from evtui.settings import Settings
from evtui.tui.messages import OpenEvent, OpenRun
from evtui.tui.screens.detail import EventDetailScreen
from evtui.tui.screens.run_detail import RunDetailScreen
from evtui.tui.widgets.run_log import RunLog

SIZE = (120, 36)
RUN_ID = "0190c0de-0000-7000-8000-0000000000aa"
AUTOMATIONS = [
    {"name": "archive csv", "expect": ["file.created"]},
    {"name": "parquet only", "expect": ["file.created"], "match": {"size": "9*"}},
    {"name": "nightly report", "expect": ["table.loaded"]},
    {"name": "switched off", "expect": ["file.created"], "enabled": False},
]
LOG = [
    ("INFO", "loading report-0.csv"),
    ("DEBUG", "opened /data/in/report-0.csv (512 bytes)"),
    ("WARNING", "slow disk: 1.8 s to read"),
    ("INFO", "12 rows read"),
    ("ERROR", "row 7: bad date '2024-13-01'"),
    ("INFO", "11 rows loaded into warehouse.reports"),
]


def automation(spec: dict) -> AutomationCreate:
    trigger = {"type": "event", "posture": "Reactive", "expect": spec["expect"]}
    if "match" in spec:
        trigger["match"] = spec["match"]
    body = {"name": spec["name"], "trigger": trigger, "actions": [{"type": "do-nothing"}]}
    return AutomationCreate.model_validate(body | {"enabled": spec.get("enabled", True)})


async def record_run(engine: Engine) -> None:
    """A finished run of `load`, written as the runner would, with fixed ids and times."""
    at = [BASE_TIME + timedelta(seconds=s) for s in (0, 0.2, 0.9, 4.3)]
    run = FlowRun(
        id=RUN_ID,
        name="amber-fox",
        flow="load",
        parameters={"path": "report-0.csv", "rows": 12},
        state="Scheduled",
        state_message=None,
        cause=RunCause(kind="manual"),
        created=at[0],
    )
    runs = engine.runner.runs
    first_states = ("Scheduled", "Pending", "Running")
    for index, (state, moment) in enumerate(zip(first_states, at[:3], strict=True)):
        run.state = state
        run.started = at[2] if state == "Running" else None
        await runs.record_state(run, StateRecord(f"{RUN_ID[:-2]}{index:02d}", state, moment))
    await runs.record_task(
        TaskRun(f"{RUN_ID[:-2]}10", RUN_ID, "count_rows", "Completed", at[2], at[3])
    )
    lines = [
        LogRecord(seq, RUN_ID, at[2] + timedelta(milliseconds=300 * seq), level, "logger",
                  "evtui.flow", message)
        for seq, (level, message) in enumerate(LOG, start=1)
    ]  # fmt: skip
    await runs.append_logs(lines, 1000)
    run.state, run.ended = "Completed", at[3]
    await runs.record_state(run, StateRecord(f"{RUN_ID[:-2]}03", "Completed", at[3]))


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Settings:
    (tmp_path / "automations").mkdir()
    settings = Settings(
        db=tmp_path / "e.db",
        port=0,
        automations=[tmp_path / "automations"],
        retention_days=RETENTION_DAYS,
    )
    ids = (uuid.UUID(int=0xF1 << 120 | n) for n in itertools.count(1))
    monkeypatch.setattr("evtui.engine.now_utc", lambda: BASE_TIME)
    monkeypatch.setattr("evtui.automations.service.now_utc", lambda: BASE_TIME)
    monkeypatch.setattr("evtui.automations.evaluator.uuid7", lambda: next(ids))

    async def seed() -> None:
        async with Engine(settings, serve_http=False) as engine:
            for spec in AUTOMATIONS:
                await engine.automations.create(automation(spec))
            await engine.ingest([make_event(0, size="512")])
            firings = engine.actions.firings
            await until_fired(lambda: firings.firings_for_event(str(make_event(0).id)))
            await record_run(engine)

    asyncio.run(seed())
    return settings


async def until_fired(read: object) -> None:
    deadline = time.monotonic() + 10
    while not await read():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the automation did not fire"
        await asyncio.sleep(0.02)


def open_and_wait(request: OpenEvent | OpenRun):
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: subscribed(app.source.engine), "the app to start")
        app.post_message(request)

        def loaded() -> bool:
            screen = app.screen
            if isinstance(screen, EventDetailScreen):
                return screen.explained
            if not isinstance(screen, RunDetailScreen):
                return False
            done = all(w.is_finished for w in app.workers if w.node is screen)
            return done and screen.run is not None and screen.query_one(RunLog).line_count == 6

        await until(pilot, loaded, "the screen's data")
        await pilot.pause()

    return run_before


def test_event_detail_with_explain(snap_compare, seeded: Settings) -> None:
    app = DetailsApp(Engine(seeded, serve_http=False))
    run_before = open_and_wait(OpenEvent(str(make_event(0).id)))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_run_detail(snap_compare, seeded: Settings) -> None:
    app = DetailsApp(Engine(seeded, serve_http=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=open_and_wait(OpenRun(RUN_ID)))
