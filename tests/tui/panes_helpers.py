"""What the pane and source tests share: a flows folder, an automation that runs one of its
flows for each `file.created` event, settings for an engine over them, and fixed rows of every
pane for snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from polling import until
from tui_helpers import BASE_TIME, RETENTION_DAYS, make_event

from evtui.automations.firing import Firing
from evtui.automations.firings import idempotency_key
from evtui.automations.models import AutomationCreate
from evtui.engine import Engine
from evtui.flows.records import FlowRun, LogRecord, RunCause, StateRecord
from evtui.settings import Settings
from evtui.store.runs import RunStore

FLOWS = """
from pathlib import Path

from evtui import flow, get_run_logger


@flow
def greet(name: str = "world", lines: int = 2):
    logger = get_run_logger()
    for index in range(lines):
        logger.info("hello %s %d", name, index)
    return name


@flow
def hold(release: str):
    import time
    while not Path(release).exists():
        time.sleep(0.02)
"""

GREET_ON_FILE: dict[str, Any] = {
    "name": "greet new files",
    "trigger": {
        "type": "event",
        "posture": "Reactive",
        "expect": ["file.created"],
        "threshold": 1,
        "within": 0,
    },
    "actions": [
        {
            "type": "run-flow",
            "flow": "greet",
            "parameters": {"name": "{{ event.resource['prefect.resource.name'] }}"},
        }
    ],
}
"""Runs `greet` once per `file.created` event, named after the event's resource."""

COUNT_TWO: dict[str, Any] = {
    "name": "two reports in an hour",
    "trigger": {
        "type": "event",
        "posture": "Reactive",
        "expect": ["report.ready"],
        "threshold": 2,
        "within": 3600,
    },
    "actions": [{"type": "do-nothing"}],
}
"""Counts `report.ready` events: one leaves it counting 1 of 2."""


def flow_settings(tmp_path: Path, **fields: Any) -> Settings:
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    (folder / "pane_flows.py").write_text(FLOWS)
    return Settings(
        db=tmp_path / "e.db", port=0, flows=[folder], retention_days=RETENTION_DAYS, **fields
    )


async def seed_panes(engine: Engine) -> None:
    """Automations, firings, runs and log lines with fixed ids and times, for snapshots.

    Written through the engine's stores as the runner and the action runner write them; every
    run is final, so a restart leaves them as they are.
    """
    events = [make_event(i) for i in range(3)]
    await engine.ingest(events)

    async def evaluated() -> bool:  # before the automations exist: the events fire nothing
        return engine.automation_service.cursor >= engine.bus.head

    await until(evaluated, what="the evaluator to pass the events")
    greet = await engine.automations.create(AutomationCreate.model_validate(GREET_ON_FILE))
    counting = await engine.automations.create(AutomationCreate.model_validate(COUNT_TWO))
    await engine.automations.set_enabled(counting.id, False)
    firings = engine.actions.firings
    runs = engine.runner.runs
    for index, event in enumerate(events):
        stored = await engine.store.get_event(str(event.id))
        assert stored is not None
        at = BASE_TIME + timedelta(minutes=index)
        firing = Firing(
            id=UUID(int=100 + index),
            automation=greet,
            trigger_id=greet.trigger.id,
            state="Triggered",
            occurred=at,
            triggering_event=stored.event,
            triggering_events=[stored.event],
            triggering_labels={},
            bucket_key="[]",
            count=1,
        )
        await firings.record_firing(firing, str(UUID(int=200 + index)))
        state = "failed" if index == 1 else "executed"
        key = idempotency_key(greet.id, firing.id, 0)
        await firings.claim_action(key, firing, 0, "run-flow", at, state=state, result={})
        cause = RunCause("automation", event_id=str(event.id), automation_id=str(greet.id))
        await seed_run(runs, index, "Completed" if index != 1 else "Failed", cause, at)
    manual = BASE_TIME + timedelta(minutes=5)
    await seed_run(runs, 3, "Cancelled", RunCause("manual"), manual)
    rerun_of = str(UUID(int=300 + 1))
    await seed_run(runs, 4, "Completed", RunCause("rerun", rerun_of=rerun_of), manual)


async def seed_run(runs: RunStore, index: int, state: str, cause: RunCause, at: datetime) -> None:
    run = FlowRun(
        id=str(UUID(int=300 + index)),
        name=f"quiet-otter-{index}",
        flow="greet",
        parameters={"name": f"report-{index}.csv"},
        state=state,
        state_message=None,
        cause=cause,
        created=at,
        started=at + timedelta(seconds=1),
        ended=at + timedelta(seconds=3 + index * 7),
        attempt=1,
    )
    await runs.record_state(run, StateRecord(str(UUID(int=400 + index)), state, run.ended or at))
    lines = [
        LogRecord(seq, run.id, at + timedelta(seconds=seq), level, "logger", "greet", message)
        for seq, (level, message) in enumerate(
            [("INFO", f"hello report-{index}.csv 0"), ("INFO", f"hello report-{index}.csv 1")]
            + ([("ERROR", "ValueError: the warehouse is locked")] if state == "Failed" else []),
            1,
        )
    ]
    await runs.append_logs(lines, keep=100)
