"""Issue 5's canonical scenario, end to end on a real engine with the shipped samples.

Three CSV files dropped into the watched inbox give three `file.created` events, three firings
of the shipped automation, three Completed `process_new_file` runs (rows in the warehouse,
files moved), three `custom.file_processed` events each related to its run, the chained
`daily_summary` runs, and a lineage that walks the whole chain both ways.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from polling import until

from evtui.engine import Engine
from evtui.flows.records import FlowRun
from evtui.lineage import lineage
from evtui.settings import Settings

SAMPLES = Path(__file__).parents[2] / "sample_flows"


async def completed(engine: Engine, flow: str, count: int) -> list[FlowRun]:
    async def check() -> list[FlowRun] | None:
        runs = await engine.runner.runs.list_runs(flow=flow, limit=50)
        finals = [run for run in runs if run.is_final]
        return runs if len(finals) >= count else None

    runs = await until(check, 60.0, f"{count} final runs of {flow}")
    assert [run.state for run in runs] == ["Completed"] * count, [r.state_message for r in runs]
    return runs


async def test_three_csv_files_run_the_whole_chain(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = Settings(
        db=tmp_path / "e.db",
        port=0,
        flows=[SAMPLES],
        automations=[SAMPLES / "automations"],
        watch=[f"{inbox}:*.csv"],
        settle_seconds=0.2,
    )
    async with Engine(settings, serve_http=False) as engine:
        assert {a.name for a in engine.automations.all()} == {
            "process new CSV files",
            "summarize after each load",
            "flag large orders",
        }
        for name in ("north", "south", "west"):
            shutil.copy(SAMPLES / "data" / "sales.csv", inbox / f"{name}.csv")

        loads = await completed(engine, "process_new_file", 3)
        summaries = await completed(engine, "daily_summary", 3)

        assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
            "north.csv",
            "south.csv",
            "west.csv",
        ]
        assert not list(inbox.glob("*.csv"))
        with sqlite3.connect("warehouse.db") as db:  # the flows' default, in the working folder
            for table in ("north", "south", "west"):
                assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (3,)
            assert db.execute("SELECT sum(rows), sum(rejected) FROM daily_summary").fetchone() == (
                9,
                6,
            )

        for run in loads:
            assert run.cause.kind == "automation"
            cause = await engine.store.get_event(run.cause.event_id)
            assert cause is not None and cause.event.event == "file.created"
            assert run.parameters["path"] == cause.event.resource["evtui.file.path"]

        chain = await lineage(engine, loads[0].id)
        assert [node.kind for node in chain.upstream] == ["event", "firing"]
        assert chain.upstream[0].event is not None
        assert chain.upstream[0].event.event == "file.created"
        kinds = [(node.kind, node.depth) for node in chain.downstream]
        assert kinds == [("event", 1), ("firing", 2), ("run", 3)]
        emitted = chain.downstream[0].event
        assert emitted is not None and emitted.event == "custom.file_processed"
        assert chain.downstream[2].run is not None
        assert chain.downstream[2].run.flow == "daily_summary"

        downstream = await lineage(engine, chain.downstream[2].id)
        assert [node.kind for node in downstream.upstream] == [
            "event",
            "firing",
            "run",
            "event",
            "firing",
        ]
        assert {run.id for run in summaries} >= {chain.downstream[2].id}
