"""The run child process, driven through a real subprocess speaking the child protocol."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evtui.flows.protocol import (
    CHANNEL_FD_ENV,
    EXIT_ORPHANED,
    Done,
    EmittedEvent,
    Log,
    Ready,
    Running,
    TaskUpdate,
    parse_child_message,
)

DEADLINE = 20.0


class Child:
    """A child process and the parent's side of its protocol."""

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "evtui.flows.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(write_end,),
            env={**os.environ, CHANNEL_FD_ENV: str(write_end)},
        )
        os.close(write_end)
        self.messages: queue.Queue[Any] = queue.Queue()
        self._channel = os.fdopen(read_end, "rb")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._channel:
            self.messages.put(parse_child_message(line))
        self.messages.put(None)

    def next(self) -> Any:
        return self.messages.get(timeout=DEADLINE)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def run(self, file: Path, flow: str, parameters: dict[str, Any], **extra: Any) -> None:
        assert isinstance(self.next(), Ready)
        self.send(
            {
                "op": "run",
                "run_id": str(RUN_ID),
                "run_name": "brave-otter",
                "file": str(file),
                "flow": flow,
                "parameters": parameters,
                "attempt": 1,
                "cause_event_id": None,
                "api_url": "http://127.0.0.1:9/api",
                **extra,
            }
        )

    def until_done(self, refuse: str | None = None) -> list[Any]:
        """Every message up to and including `done`, acking each event on the way."""
        seen = []
        while True:
            message = self.next()
            assert message is not None, f"channel closed early: {seen}"
            seen.append(message)
            if isinstance(message, EmittedEvent):
                ack = {"op": "ack", "id": str(message.event.id)}
                self.send(ack | {"error": refuse} if refuse else ack)
            if isinstance(message, Done):
                return seen

    def exit_code(self) -> int:
        return self.process.wait(timeout=DEADLINE)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=DEADLINE)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


RUN_ID = uuid.UUID("0190a0a0-0000-7000-8000-000000000001")


@pytest.fixture
def child() -> Iterator[Child]:
    started = Child()
    yield started
    started.close()


def write_flow(folder: Path, source: str, name: str = "flows.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def logs(messages: list[Any]) -> list[tuple[str, str, str]]:
    return [(m.stream, m.level, m.message) for m in messages if isinstance(m, Log)]


def test_a_flow_runs_and_reports_its_result(child: Child, tmp_path: Path) -> None:
    write_flow(tmp_path, "FACTOR = 3\n", name="helper.py")
    path = write_flow(
        tmp_path,
        """
        import datetime
        from evtui import flow
        from helper import FACTOR

        @flow
        def triple(rows: int, when: datetime.date = datetime.date(2024, 1, 2)):
            return {"rows": rows * FACTOR, "when": when}
        """,
    )
    child.run(path, "triple", {"rows": "4"})
    messages = child.until_done()
    assert isinstance(messages[0], Running)
    assert messages[-1] == Done(
        state="Completed", result={"rows": 12, "when": "2024-01-02"}, retryable=True
    )
    assert child.exit_code() == 0


def test_a_result_without_json_form_is_reported_as_its_repr(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        from evtui import flow

        class Opaque:
            def __repr__(self):
                return "<opaque>"

        @flow
        def opaque():
            return Opaque()
        """,
    )
    child.run(path, "opaque", {})
    assert child.until_done()[-1].result == "<opaque>"


def test_an_exception_fails_the_run_with_its_traceback_logged(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        from evtui import flow

        def load():
            raise ValueError("row 7 is bad")

        @flow(name="loader")
        def load_flow():
            load()
        """,
    )
    child.run(path, "loader", {})
    messages = child.until_done()
    done = messages[-1]
    assert (done.state, done.message, done.retryable) == (
        "Failed",
        "ValueError: row 7 is bad",
        True,
    )
    [(stream, level, text)] = logs(messages)
    assert (stream, level) == ("logger", "ERROR")
    assert "Traceback" in text and 'flows.py", line 5, in load' in text
    assert "evtui/flows/child.py" not in text
    assert child.exit_code() == 0


def test_bad_parameters_fail_without_running_and_without_retry(
    child: Child, tmp_path: Path
) -> None:
    path = write_flow(
        tmp_path,
        """
        from evtui import flow

        @flow
        def load(rows: int, path: str):
            raise AssertionError("must not run")
        """,
    )
    child.run(path, "load", {"rows": "many", "colour": "red"})
    messages = child.until_done()
    assert not any(isinstance(m, Running) for m in messages)
    assert messages[-1].state == "Failed"
    assert messages[-1].retryable is False
    assert messages[-1].message == (
        "parameter 'rows': Input should be a valid integer, unable to parse string as an integer; "
        "parameter 'path': required but not given; "
        "parameter 'colour': not a parameter of this flow (it takes rows, path)"
    )


def test_a_flow_file_that_does_not_import_is_not_retryable(child: Child, tmp_path: Path) -> None:
    path = write_flow(tmp_path, "from evtui import flow\nimport no_such_module_here\n")
    child.run(path, "anything", {})
    done = child.until_done()[-1]
    assert (done.state, done.retryable) == ("Failed", False)
    assert "line 2: ModuleNotFoundError: No module named 'no_such_module_here'" in done.message


def test_an_unknown_flow_name_is_not_retryable(child: Child, tmp_path: Path) -> None:
    path = write_flow(tmp_path, "from evtui import flow\n\n@flow\ndef present():\n    pass\n")
    child.run(path, "absent", {})
    done = child.until_done()[-1]
    assert (done.state, done.retryable) == ("Failed", False)
    assert done.message == f"{path} defines no flow 'absent'"


def test_prints_logs_and_task_states_arrive_in_order(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        import sys
        from evtui import flow, task, get_run_logger

        attempts = []

        @task(retries=1, log_prints=True)
        def flaky(n):
            attempts.append(n)
            print(f"try {len(attempts)}")
            if len(attempts) == 1:
                raise RuntimeError("first try fails")
            return n

        @flow
        def ordered():
            print("one")
            get_run_logger().warning("two")
            sys.stderr.write("three\\n")
            flaky(4)
            print("four", end="")
        """,
    )
    child.run(path, "ordered", {})
    messages = child.until_done()
    steps = []
    for m in messages:
        if isinstance(m, Log):
            steps.append((m.stream, m.logger, m.message))
        elif isinstance(m, TaskUpdate):
            steps.append((m.task, m.state, m.message))
    assert steps == [
        ("stdout", "stdout", "one"),
        ("logger", "evtui.flow_runs", "two"),
        ("stderr", "stderr", "three"),
        ("flaky", "Pending", None),
        ("flaky", "Running", None),
        ("logger", "evtui.task_runs", "try 1"),
        ("flaky", "AwaitingRetry", "RuntimeError: first try fails"),
        ("flaky", "Retrying", None),
        ("logger", "evtui.task_runs", "try 2"),
        ("flaky", "Completed", None),
        ("stdout", "stdout", "four"),
    ]
    assert len({m.task_run_id for m in messages if isinstance(m, TaskUpdate)}) == 1


def test_log_prints_makes_prints_info_records(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        from evtui import flow

        @flow(log_prints=True)
        def chatty():
            print("hello", 42)
        """,
    )
    child.run(path, "chatty", {})
    assert logs(child.until_done()) == [("logger", "INFO", "hello 42")]


def test_async_flows_and_tasks_run_in_the_child(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        import asyncio
        from evtui import flow, task, get_run_logger

        @task
        async def fetch(n):
            await asyncio.sleep(0)
            get_run_logger().info("fetched %d", n)
            return n * 2

        @flow
        async def gather(n: int):
            return list(await asyncio.gather(fetch(n), fetch(n + 1)))
        """,
    )
    child.run(path, "gather", {"n": 1})
    messages = child.until_done()
    assert messages[-1].result == [2, 4]
    assert sorted(m.message for m in messages if isinstance(m, Log)) == ["fetched 1", "fetched 2"]
    assert {m.logger for m in messages if isinstance(m, Log)} == {"evtui.task_runs"}
    states = [m.state for m in messages if isinstance(m, TaskUpdate)]
    assert sorted(states) == sorted(["Pending", "Running", "Completed"] * 2)


def test_a_malformed_run_message_ends_the_child_with_a_reason(child: Child) -> None:
    assert isinstance(child.next(), Ready)
    child.send({"op": "run", "flow": "x"})
    assert child.exit_code() == 2
    assert child.process.stderr is not None
    assert b"malformed run message" in child.process.stderr.read()


def test_a_task_that_times_out_fails_as_timed_out(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        import time
        from evtui import flow, task

        @task(timeout_seconds=0.2)
        def slow():
            time.sleep(60)

        @flow
        def waits():
            try:
                slow()
            except TimeoutError as error:
                return str(error)
        """,
    )
    child.run(path, "waits", {})
    messages = child.until_done()
    states = [(m.state, m.message) for m in messages if isinstance(m, TaskUpdate)]
    expected = "Task run 'slow' exceeded timeout of 0.2 second(s)"
    assert states == [
        ("Pending", None),
        ("Running", None),
        ("Failed", f"TimedOut: {expected}"),
    ]
    assert messages[-1].result == expected


def test_emitted_events_carry_the_run_and_wait_for_the_ack(child: Child, tmp_path: Path) -> None:
    cause = uuid.uuid4()
    path = write_flow(
        tmp_path,
        """
        from evtui import emit_event, flow, task

        @task
        def announce():
            return emit_event("custom.inner", resource={"prefect.resource.id": "file.b"})

        @flow
        def emits():
            first = emit_event(
                "custom.file_processed",
                resource={"prefect.resource.id": "file.a"},
                related=[{"prefect.resource.id": "evtui.flow.emits", "prefect.resource.role": "x"}],
                payload={"rows": 3},
            )
            print("acked")
            inner = announce()
            return [str(first.follows), str(inner.id)]
        """,
    )
    child.run(path, "emits", {}, cause_event_id=str(cause))
    messages = child.until_done()
    first, acked, inner = (m for m in messages if isinstance(m, EmittedEvent | Log))
    assert isinstance(acked, Log) and acked.message == "acked"
    assert first.event.follows == cause
    assert first.event.payload == {"rows": 3}
    assert [
        (r["prefect.resource.id"], r["prefect.resource.role"]) for r in first.event.related
    ] == [
        ("evtui.flow.emits", "x"),
        (f"evtui.flow-run.{RUN_ID}", "flow-run"),
    ]
    assert first.event.related[1]["prefect.resource.name"] == "brave-otter"
    task_run_id = next(m.task_run_id for m in messages if isinstance(m, TaskUpdate))
    assert [r["prefect.resource.role"] for r in inner.event.related] == [
        "flow-run",
        "flow",
        "task-run",
    ]
    assert inner.event.related[2]["prefect.resource.id"] == f"evtui.task-run.{task_run_id}"
    assert messages[-1].result == [str(cause), str(inner.event.id)]


def test_a_refused_event_raises_in_the_flow(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        from evtui import emit_event, flow

        @flow
        def emits():
            emit_event("custom.x", resource={"prefect.resource.id": "x"})
        """,
    )
    child.run(path, "emits", {})
    done = child.until_done(refuse="store is full")[-1]
    assert done.state == "Failed"
    assert done.message == "DeliveryError: evtui refused event 'custom.x': store is full"


def test_a_spare_child_exits_quietly_when_stdin_closes(child: Child) -> None:
    assert isinstance(child.next(), Ready)
    assert child.process.stdin is not None
    child.process.stdin.close()
    assert child.next() is None
    assert child.exit_code() == 0


def test_a_child_whose_parent_goes_away_exits_without_done(child: Child, tmp_path: Path) -> None:
    path = write_flow(
        tmp_path,
        """
        import time
        from evtui import flow

        @flow
        def forever():
            while True:
                time.sleep(0.05)
        """,
    )
    child.run(path, "forever", {})
    assert isinstance(child.next(), Running)
    assert child.process.stdin is not None
    child.process.stdin.close()
    assert child.exit_code() == EXIT_ORPHANED
    assert child.next() is None
