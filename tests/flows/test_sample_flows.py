"""The flows in `sample_flows/` run as shipped, as its README tells a newcomer to run them."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from runner_helpers import events_of, finished

from evtui.engine import Engine
from evtui.flows.records import RunCause
from evtui.settings import Settings

SAMPLES = Path(__file__).parents[2] / "sample_flows"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    settings = Settings(db=tmp_path / "e.db", port=0, flows=[SAMPLES])
    async with Engine(settings, serve_http=False) as started:
        assert started.registry.errors() == {}
        yield started


async def test_the_sample_flows_are_discovered(engine: Engine) -> None:
    names = {info.name for info in engine.registry.flows()}
    assert names == {"process_new_file", "daily_summary", "flaky_once", "flag_large_order"}


async def test_process_new_file_loads_good_rows_reports_bad_ones_and_moves_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    csv = Path(shutil.copy(SAMPLES / "data" / "sales.csv", inbox))
    warehouse = tmp_path / "warehouse.db"
    parameters = {"path": str(csv), "warehouse": str(warehouse)}
    run = await engine.runner.submit("process_new_file", parameters, RunCause(kind="manual"))
    done = await finished(engine.runner, run.id)
    assert done.state == "Completed", done.state_message

    assert not csv.exists()
    assert (inbox / "processed" / "sales.csv").is_file()
    with sqlite3.connect(warehouse) as db:
        assert db.execute("SELECT count(*) FROM sales").fetchone() == (3,)
        rejected = db.execute("SELECT line, reason FROM rejected_rows ORDER BY line").fetchall()
    assert rejected == [(4, "expected 4 fields, found 3"), (5, "empty customer")]
    logs = [record.message for record in await engine.runner.runs.logs(run.id)]
    assert "sales.csv line 5 rejected: empty customer" in logs

    emitted = [
        e
        for e in await events_of(engine.runner, f"evtui.flow-run.{run.id}")
        if e.event == "custom.file_processed"
    ]
    assert len(emitted) == 1
    assert emitted[0].resource_id == "file.sales.csv"
    assert emitted[0].payload["rows"] == 3
    assert emitted[0].payload["rejected"] == 2


async def test_daily_summary_totals_what_process_new_file_loaded(
    engine: Engine, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.db"
    csv = shutil.copy(SAMPLES / "data" / "sales.csv", tmp_path)
    load = await engine.runner.submit(
        "process_new_file",
        {"path": str(csv), "warehouse": str(warehouse)},
        RunCause(kind="manual"),
    )
    assert (await finished(engine.runner, load.id)).state == "Completed"
    summary = await engine.runner.submit(
        "daily_summary", {"warehouse": str(warehouse)}, RunCause(kind="manual")
    )
    assert (await finished(engine.runner, summary.id)).state == "Completed"
    with sqlite3.connect(warehouse) as db:
        assert db.execute("SELECT files, rows, rejected FROM daily_summary").fetchall() == [
            (1, 3, 2)
        ]


async def test_flaky_once_fails_then_succeeds_on_its_retry(engine: Engine, tmp_path: Path) -> None:
    run = await engine.runner.submit(
        "flaky_once", {"key": f"test-{tmp_path.name}"}, RunCause(kind="manual")
    )
    done = await finished(engine.runner, run.id, timeout=20)
    assert (done.state, done.attempt) == ("Completed", 2)
    states = [record.state for record in await engine.runner.runs.states(run.id)]
    assert "AwaitingRetry" in states
    assert "Retrying" in states
