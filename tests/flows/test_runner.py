"""The runner with real child processes and a real SQLite file: how runs end, what they leave."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from runner_helpers import (
    events_of,
    finished,
    in_state,
    running,
    state_names,
    until,
)

from evtui.flows.errors import RunAlreadyFinished, RunNotFound, UnknownFlow
from evtui.flows.records import RunCause
from evtui.flows.runner import STOPPED_MESSAGE, WAITING_MESSAGE

MANUAL = RunCause("manual")


RETRIED = ["Scheduled", "Pending", "Running", "AwaitingRetry", "Retrying", "Running"]
"""States of a run whose first attempt failed, up to the end of its second."""


async def test_a_run_that_succeeds_goes_through_every_state(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("succeed", {"rows": "21"}, RunCause("api", event_id=None))
        assert run.flow == "succeed" and run.parameters == {"rows": "21"}
        done = await finished(runner, run.id)
        assert done.state == "Completed" and done.attempt == 1
        assert done.started is not None and done.ended is not None and done.created <= done.started
        assert await state_names(runner, run.id) == ["Scheduled", "Pending", "Running", "Completed"]
        logs = await runner.runs.logs(run.id)
        assert [(r.seq, r.message) for r in logs] == [(1, "got 21 rows")]

        events = await events_of(runner, f"evtui.flow-run.{run.id}")
        names = [e.event for e in events]
        assert names == [
            "evtui.flow-run.Scheduled",
            "evtui.flow-run.Pending",
            "evtui.flow-run.Running",
            "evtui.flow-run.Completed",
        ]
        states = await runner.runs.states(run.id)
        assert [str(e.id) for e in events] == [s.id for s in states]
        assert [e.follows for e in events[1:]] == [e.id for e in events[:-1]]
        last = events[-1]
        assert last.resource["prefect.resource.name"] == run.name
        assert last.resource["prefect.state-type"] == "COMPLETED"
        assert last.resource["prefect.run-count"] == "1"
        assert last.resource["evtui.flow.name"] == "succeed"
        assert last.related == [
            {
                "prefect.resource.id": "evtui.flow.succeed",
                "prefect.resource.role": "flow",
                "prefect.resource.name": "succeed",
            }
        ]


async def test_the_cause_event_is_related_and_followed(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        from evtui.events import Event

        trigger = Event(event="file.created", resource={"prefect.resource.id": "file.a"})
        await runner.engine.ingest([trigger])
        cause = RunCause("automation", event_id=str(trigger.id), automation_id="a1")
        run = await runner.submit("chatty", {"lines": 1}, cause)
        await finished(runner, run.id)
        events = await events_of(runner, f"evtui.flow-run.{run.id}")
        assert events[0].follows == trigger.id
        assert {
            "prefect.resource.id": f"prefect.event.{trigger.id}",
            "prefect.resource.role": "cause",
        } in events[0].related
        assert {
            "prefect.resource.id": "evtui.automation.a1",
            "prefect.resource.role": "creator",
        } in events[0].related
        emitted = [e for e in events if e.event == "custom.step"]
        assert len(emitted) == 1 and emitted[0].follows == trigger.id
        assert [r.id for r in await runner.runs.runs_caused_by([str(trigger.id)])] == [run.id]


async def test_a_failing_run_fails_with_the_error_and_its_traceback(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("fail", {}, MANUAL)
        done = await finished(runner, run.id)
        assert done.state == "Failed"
        assert done.state_message == "ValueError: bad input"
        logs = [r.message for r in await runner.runs.logs(run.id)]
        assert any("Traceback" in line and "bad input" in line for line in logs)


async def test_a_failed_attempt_is_retried_in_a_new_process(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("flaky", {"marker": str(tmp_path / "attempts")}, MANUAL)
        done = await finished(runner, run.id)
        assert done.state == "Completed" and done.attempt == 2
        assert await state_names(runner, run.id) == [*RETRIED, "Completed"]
        states = await runner.runs.states(run.id)
        assert states[3].message == "RuntimeError: the first attempt fails; retry 1 of 2 in 0.1 s"
        counts = [
            e.resource["prefect.run-count"]
            for e in await events_of(runner, f"evtui.flow-run.{run.id}")
        ]
        assert counts == ["0", "1", "1", "1", "2", "2", "2"]


async def test_bad_parameters_fail_at_once_without_retries(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("strict", {"rows": "many"}, MANUAL)
        done = await finished(runner, run.id)
        assert done.state == "Failed" and done.attempt == 1
        assert "parameter 'rows'" in (done.state_message or "")
        assert await state_names(runner, run.id) == ["Scheduled", "Pending", "Failed"]


async def test_a_run_past_its_timeout_is_killed_and_retried(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("slow", {}, MANUAL)
        done = await finished(runner, run.id)
        assert done.state == "TimedOut" and done.attempt == 2
        assert done.state_message == "timed out after 0.5 s"
        assert await state_names(runner, run.id) == [*RETRIED, "TimedOut"]


async def test_a_child_that_dies_crashes_the_run(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("die", {}, MANUAL)
        done = await finished(runner, run.id)
        assert done.state == "Crashed"
        assert done.state_message == "the flow process exited with code 3 before the run finished"


async def test_prints_and_raw_output_become_log_lines(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("raw_output", {}, MANUAL)
        await finished(runner, run.id)
        lines = {(r.stream, r.message) for r in await runner.runs.logs(run.id)}
        assert lines == {("stdout", "printed"), ("stdout", "raw out"), ("stderr", "raw err")}


async def test_a_spare_that_dies_is_replaced(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        first = await until(_spares)
        os.kill(first[0], signal.SIGKILL)
        replaced = await until(lambda: _spares(other_than=first))
        assert len(replaced) == 1
        run = await runner.submit("succeed", {}, MANUAL)
        assert (await finished(runner, run.id)).state == "Completed"


async def test_cancelling_a_running_run_stops_its_process(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    async with running(tmp_path) as runner:
        run = await runner.submit(
            "hold", {"started": str(started), "release": str(release)}, MANUAL
        )
        await until(lambda: _exists(started))
        cancelling = await runner.cancel(run.id)
        assert cancelling.state == "Cancelling"
        done = await finished(runner, run.id)
        assert done.state == "Cancelled"
        assert (await state_names(runner, run.id))[-2:] == ["Cancelling", "Cancelled"]
        with pytest.raises(RunAlreadyFinished):
            await runner.cancel(run.id)
        with pytest.raises(RunNotFound):
            await runner.cancel("no-such-run")


async def test_a_queued_run_is_visible_and_cancelled_without_running(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    async with running(tmp_path, max_concurrent_runs=1) as runner:
        holding = {"started": str(started), "release": str(release)}
        first = await runner.submit("hold", holding, MANUAL)
        second = await runner.submit("succeed", {}, MANUAL)
        assert second.state == "Scheduled" and second.state_message == WAITING_MESSAGE
        await in_state(runner, first.id, "Running")
        queued = await runner.runs.list_runs(states=["Scheduled"])
        assert [r.id for r in queued] == [second.id]
        assert (await runner.cancel(second.id)).state == "Cancelled"
        release.touch()
        assert (await finished(runner, first.id)).state == "Completed"
        assert await state_names(runner, second.id) == ["Scheduled", "Cancelled"]


async def test_rerun_repeats_the_flow_with_the_same_parameters(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        first = await runner.submit("succeed", {"rows": 4}, MANUAL)
        await finished(runner, first.id)
        again = await runner.rerun(first.id)
        assert again.id != first.id and again.parameters == {"rows": 4}
        assert again.cause == RunCause("rerun", rerun_of=first.id)
        assert (await finished(runner, again.id)).state == "Completed"
        with pytest.raises(RunNotFound):
            await runner.rerun("nope")
        with pytest.raises(UnknownFlow):
            await runner.submit("no_such_flow", {}, MANUAL)


async def test_limits_queue_runs_first_come_first_served(tmp_path: Path) -> None:
    release = tmp_path / "release"
    async with running(tmp_path, max_concurrent_runs=2, flow_concurrency={"hold": 1}) as runner:
        holds = [
            await runner.submit(
                "hold", {"started": str(tmp_path / f"s{i}"), "release": str(release)}, MANUAL
            )
            for i in range(3)
        ]
        other = await runner.submit("succeed", {}, MANUAL)
        assert [r.state_message for r in holds] == [None, WAITING_MESSAGE, WAITING_MESSAGE]
        assert other.state_message is None  # the hold limit does not hold up another flow
        assert (await finished(runner, other.id)).state == "Completed"
        await until(lambda: _exists(tmp_path / "s0"))
        waiting = await runner.runs.list_runs(flow="hold", states=["Scheduled"])
        assert [r.id for r in waiting] == [holds[2].id, holds[1].id]  # newest first
        release.touch()
        ended = [await finished(runner, r.id) for r in holds]
        assert [r.state for r in ended] == ["Completed"] * 3
        assert ended[0].ended <= ended[1].started and ended[1].ended <= ended[2].started


async def test_events_and_logs_of_a_run_arrive_in_order(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        subscription = runner.subscribe_logs(None)
        run = await runner.submit("chatty", {"lines": 300, "every": 50}, MANUAL)
        live = []
        while batch := await asyncio.wait_for(subscription.next_batch(), 15):
            live.extend(r for r in batch if r.run_id == run.id)
            if any(r.stream == "evtui" for r in batch) or len(live) >= 300:
                break
        subscription.close()
        await finished(runner, run.id)
        stored = await runner.runs.logs(run.id)
        assert [r.message for r in stored] == [f"line {i}" for i in range(300)]
        assert [r.seq for r in stored] == list(range(1, 301))
        assert [r.message for r in live] == [r.message for r in stored]
        events = await events_of(runner, f"evtui.flow-run.{run.id}")
        names = [e.event for e in events]
        assert names[:3] == [
            "evtui.flow-run.Scheduled",
            "evtui.flow-run.Pending",
            "evtui.flow-run.Running",
        ]
        assert names[-1] == "evtui.flow-run.Completed"
        steps = [e.payload["i"] for e in events if e.event == "custom.step"]
        assert steps == [0, 50, 100, 150, 200, 250]
        emitted = next(e for e in events if e.event == "custom.step")
        assert {
            "prefect.resource.id": f"evtui.flow-run.{run.id}",
            "prefect.resource.role": "flow-run",
            "prefect.resource.name": run.name,
        } in emitted.related


async def test_task_runs_are_recorded_with_their_states(tmp_path: Path) -> None:
    async with running(tmp_path) as runner:
        run = await runner.submit("with_tasks", {}, MANUAL)
        await finished(runner, run.id)
        tasks = await runner.runs.task_runs(run.id)
        assert [(t.task, t.state) for t in tasks] == [("double", "Completed")] * 2
        assert all(t.started and t.ended for t in tasks)
        events = await events_of(runner, f"evtui.task-run.{tasks[0].id}")
        assert [e.event for e in events][-1] == "evtui.task-run.Completed"
        assert events[-1].related[0]["prefect.resource.role"] == "flow-run"


async def test_logs_are_bounded_per_run_with_a_note(tmp_path: Path) -> None:
    async with running(tmp_path, log_lines_per_run=50) as runner:
        run = await runner.submit("chatty", {"lines": 200, "every": 1000}, MANUAL)
        await finished(runner, run.id)
        await until(lambda: runner.runs.logs(run.id, after=199))
        logs = await runner.runs.logs(run.id)
        assert len(logs) == 50
        assert logs[0].stream == "evtui" and logs[0].message.startswith("151 earlier log lines")
        assert [r.message for r in logs[1:]] == [f"line {i}" for i in range(151, 200)]


async def test_stop_crashes_runs_in_flight_and_leaves_no_children(tmp_path: Path) -> None:
    release = tmp_path / "release"
    async with running(tmp_path, max_concurrent_runs=1) as runner:
        holding = await runner.submit(
            "hold", {"started": str(tmp_path / "s"), "release": str(release)}, MANUAL
        )
        queued = await runner.submit("succeed", {}, MANUAL)
        await until(lambda: _exists(tmp_path / "s"))
        await runner.stop()
        for run_id in (holding.id, queued.id):
            run = await runner.runs.get_run(run_id)
            assert run is not None and run.state == "Crashed"
            assert run.state_message == STOPPED_MESSAGE
    assert _children() == []


async def test_a_run_left_running_by_a_killed_evtui_is_crashed_at_start(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from pathlib import Path
        from runner_helpers import in_state, running
        from evtui.flows.records import RunCause

        async def main():
            async with running(Path({str(tmp_path)!r})) as runner:
                run = await runner.submit(
                    "hold", {{"started": "{tmp_path}/s", "release": "{tmp_path}/r"}},
                    RunCause("manual"),
                )
                await in_state(runner, run.id, "Running")
                print(run.id, flush=True)
                await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    process.send_signal(signal.SIGKILL)
    process.wait()
    (tmp_path / "r").touch()  # the orphaned flow ends too
    async with running(tmp_path) as runner:
        run = await runner.runs.get_run(run_id)
        assert run is not None and run.state == "Crashed"
        assert run.state_message == STOPPED_MESSAGE
        events = await events_of(runner, f"evtui.flow-run.{run_id}")
        assert [e.event for e in events][-2:] == [
            "evtui.flow-run.Running",
            "evtui.flow-run.Crashed",
        ]
        assert events[-1].follows == events[-2].id


def _exists(path: Path):
    async def check() -> bool:
        return path.exists()

    return check()


async def _spares(other_than: list[int] = ()) -> list[int]:
    """Pids of flow processes (with no run in flight, these are the spares)."""
    return [pid for pid in _children() if pid not in other_than and _is_flow_process(pid)]


def _is_flow_process(pid: int) -> bool:
    try:
        return b"evtui.flows.child" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _children() -> list[int]:
    """Child processes of this test process, zombies included."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.append(int(entry.name))
    return found
