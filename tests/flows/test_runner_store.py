"""The run store on a real SQLite file: listing, state history, task runs, bounded logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from evtui.flows.records import FlowRun, LogRecord, RunCause, StateRecord, TaskRun
from evtui.store import Store
from evtui.store.runs import RunStore

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture
async def runs(tmp_path: Path) -> AsyncIterator[RunStore]:
    async with Store(tmp_path / "runs.db") as store:
        yield RunStore(store)


def a_run(
    n: int, flow: str = "etl", state: str = "Completed", cause_event: str | None = None
) -> FlowRun:
    return FlowRun(
        id=f"run-{n}",
        name=f"name-{n}",
        flow=flow,
        parameters={"n": n},
        state=state,
        state_message=None,
        cause=RunCause("automation" if cause_event else "manual", event_id=cause_event),
        created=T0 + timedelta(seconds=n),
    )


def line(run_id: str, seq: int) -> LogRecord:
    return LogRecord(seq, run_id, T0, "INFO", "logger", "flow", f"line {seq}")


async def test_runs_are_listed_newest_first_and_filtered(runs: RunStore) -> None:
    for n, (flow, state) in enumerate(
        [("etl", "Completed"), ("report", "Failed"), ("etl", "Running"), ("etl", "Failed")]
    ):
        run = a_run(n, flow, state, cause_event="ev-1" if n % 2 else None)
        await runs.record_state(run, StateRecord(f"s-{n}", state, run.created))
    assert [r.id for r in await runs.list_runs()] == ["run-3", "run-2", "run-1", "run-0"]
    assert [r.id for r in await runs.list_runs(flow="etl", states=["Failed", "Running"])] == [
        "run-3",
        "run-2",
    ]
    assert [r.id for r in await runs.list_runs(limit=2, offset=1)] == ["run-2", "run-1"]
    assert [r.id for r in await runs.runs_caused_by(["ev-1", "ev-9"])] == ["run-1", "run-3"]
    assert await runs.runs_caused_by([]) == []
    assert [r.id for r in await runs.unfinished_runs()] == ["run-2"]
    again = await runs.get_run("run-1")
    assert again == a_run(1, "report", "Failed", cause_event="ev-1")
    assert await runs.get_run("nope") is None


async def test_a_run_keeps_its_state_history_and_latest_state(runs: RunStore) -> None:
    run = a_run(1, state="Scheduled")
    for n, state in enumerate(["Scheduled", "Pending", "Running", "Completed"]):
        run.state, run.attempt = state, 1 if n else 0
        run.ended = T0 if state == "Completed" else None
        await runs.record_state(run, StateRecord(f"s-{n}", state, T0 + timedelta(seconds=n)))
    history = await runs.states("run-1")
    assert [(s.id, s.state) for s in history] == [
        ("s-0", "Scheduled"),
        ("s-1", "Pending"),
        ("s-2", "Running"),
        ("s-3", "Completed"),
    ]
    stored = await runs.get_run("run-1")
    assert stored is not None and stored.state == "Completed" and stored.ended == T0


async def test_task_runs_keep_their_latest_state_in_call_order(runs: RunStore) -> None:
    await runs.record_task(TaskRun("t-1", "run-1", "load", "Running", started=T0))
    await runs.record_task(TaskRun("t-2", "run-1", "check", "Running", started=T0))
    await runs.record_task(TaskRun("t-1", "run-1", "load", "Completed", started=T0, ended=T0))
    tasks = await runs.task_runs("run-1")
    assert [(t.id, t.state) for t in tasks] == [("t-1", "Completed"), ("t-2", "Running")]


async def test_logs_keep_the_newest_lines_and_say_how_many_went(runs: RunStore) -> None:
    await runs.append_logs([line("a", seq) for seq in range(1, 9)], keep=10)
    await runs.append_logs([line("b", 1)], keep=10)
    await runs.append_logs([line("a", seq) for seq in range(9, 26)], keep=10)
    kept = await runs.logs("a")
    assert len(kept) == 10
    assert (kept[0].seq, kept[0].stream) == (16, "evtui")
    assert kept[0].message == "16 earlier log lines dropped (a run keeps its last 10)"
    assert [r.seq for r in kept[1:]] == list(range(17, 26))
    assert [r.message for r in await runs.logs("a", after=23)] == ["line 24", "line 25"]
    assert [r.message for r in await runs.logs("b")] == ["line 1"]
