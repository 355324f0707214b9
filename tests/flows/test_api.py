"""`@flow`, `@task` and `get_run_logger` outside evtui: in-process, like Prefect."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import date

import pytest
from pydantic import BaseModel

from evtui import flow, get_run_logger, task
from evtui.flows import Flow, Task
from evtui.flows.errors import FlowTimeout, ParameterError


def test_flow_defaults_follow_the_function() -> None:
    @flow
    def load_new_files(rows: int = 1) -> int:
        """Load what arrived."""
        return rows

    assert isinstance(load_new_files, Flow)
    assert load_new_files.name == "load_new_files"
    assert load_new_files.description == "Load what arrived."
    assert (load_new_files.retries, load_new_files.retry_delay_seconds) == (0, 0)
    assert (load_new_files.timeout_seconds, load_new_files.log_prints) == (None, False)
    assert load_new_files.__name__ == "load_new_files"
    assert load_new_files() == 1


def test_flow_options_are_kept() -> None:
    @flow(
        name="loader",
        retries=2,
        retry_delay_seconds=5,
        timeout_seconds=60,
        log_prints=True,
        description="Loads.",
    )
    def load() -> None:
        """Not this."""

    assert (load.name, load.retries, load.retry_delay_seconds) == ("loader", 2, 5)
    assert (load.timeout_seconds, load.log_prints, load.description) == (60, True, "Loads.")


def test_a_flow_retries_in_process_until_it_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    @flow(retries=2)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError(f"try {len(calls)}")
        return "done"

    with caplog.at_level(logging.WARNING, logger="evtui.flow_runs"):
        assert flaky() == "done"
    assert len(calls) == 3
    assert "Flow run 'flaky' failed (RuntimeError: try 1); retrying" in caplog.messages


def test_a_flow_out_of_retries_raises_the_last_error() -> None:
    @flow(retries=1)
    def always_fails() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        always_fails()


def test_parameters_are_validated_and_coerced_on_a_direct_call() -> None:
    @flow
    def load(rows: int, day: date, tags: list[str] | None = None) -> tuple[int, date, object]:
        return rows, day, tags

    assert load("5", day="2024-03-01") == (5, date(2024, 3, 1), None)
    with pytest.raises(ParameterError) as raised:
        load("five", day="soon")
    assert raised.value.problems == [
        "parameter 'rows': Input should be a valid integer, unable to parse string as an integer",
        "parameter 'day': Input should be a valid date or datetime, input is too short",
    ]


class Limits(BaseModel):
    size: int


def test_validation_names_missing_unknown_and_nested_parameters() -> None:
    @flow
    def load(rows: int, limits: Limits, schema: str = "main") -> None:
        pass

    with pytest.raises(ParameterError) as raised:
        load.validate_parameters({"limits": {"size": "big"}, "colour": "red"})
    assert str(raised.value) == (
        "parameter 'rows': required but not given; "
        "parameter 'limits.size': Input should be a valid integer, unable to parse string as an "
        "integer; parameter 'colour': not a parameter of this flow (it takes rows, limits, schema)"
    )
    assert load.validate_parameters({"rows": 1, "limits": {"size": 2}}) == {
        "rows": 1,
        "limits": Limits(size=2),
        "schema": "main",
    }


def test_keyword_arguments_flows_accept_extra_parameters() -> None:
    @flow
    def anything(first: int, *rest: int, **options: str) -> tuple[int, tuple[int, ...], dict]:
        return first, rest, options

    values = anything.validate_parameters({"first": "1", "rest": ["2", 3], "colour": "red"})
    assert anything.call_once(values) == (1, (2, 3), {"colour": "red"})


def test_parameters_schema_describes_the_signature() -> None:
    class Opaque:
        pass

    @flow
    def load(rows: int, path: str = "in.csv", thing: Opaque | None = None) -> None:
        pass

    schema = load.parameters_schema()
    assert schema["title"] == "Parameters"
    assert schema["required"] == ["rows"]
    assert schema["properties"]["rows"]["type"] == "integer"
    assert schema["properties"]["path"]["default"] == "in.csv"
    assert "thing" in schema["properties"]


def test_a_flow_timeout_stops_the_code_in_process() -> None:
    @flow(timeout_seconds=0.2)
    def stuck() -> None:
        time.sleep(60)

    with pytest.raises(FlowTimeout, match=r"Flow run 'stuck' exceeded timeout of 0.2 second\(s\)"):
        stuck()


def test_an_inner_limit_restores_the_outer_one() -> None:
    @task(timeout_seconds=5)
    def quick() -> str:
        return "quick"

    @flow(timeout_seconds=0.3)
    def outer() -> None:
        quick()
        time.sleep(60)

    with pytest.raises(FlowTimeout, match="Flow run 'outer'"):
        outer()


def test_a_task_timeout_off_the_main_thread_stops_the_code() -> None:
    @task(timeout_seconds=0.2)
    def spins() -> None:
        while True:
            time.sleep(0.01)

    outcome: list[BaseException] = []

    def call() -> None:
        try:
            spins()
        except FlowTimeout as error:
            outcome.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(timeout=20)
    assert [str(error) for error in outcome] == [
        "Task run 'spins' exceeded timeout of 0.2 second(s)"
    ]


def test_a_task_retries_with_listed_delays_outside_a_run() -> None:
    calls = []

    @task(retries=2, retry_delay_seconds=[0, 0.01])
    def flaky(n: int) -> int:
        calls.append(n)
        if len(calls) < 3:
            raise OSError("busy")
        return n * 2

    assert isinstance(flaky, Task)
    assert flaky(21) == 42
    assert calls == [21, 21, 21]
    assert flaky.name == "flaky"


def test_async_flows_and_tasks_run_when_awaited() -> None:
    attempts = []

    @task(retries=1)
    async def fetch(n: int) -> int:
        attempts.append(n)
        if len(attempts) == 1:
            raise ConnectionError("reset")
        return n + 1

    @flow
    async def pipeline(n: int) -> int:
        return await fetch(n)

    assert asyncio.run(pipeline("1")) == 2
    assert attempts == [1, 1]


def test_an_async_task_timeout_is_reported_as_a_timeout() -> None:
    @task(timeout_seconds=0.1)
    async def hangs() -> None:
        await asyncio.sleep(60)

    with pytest.raises(FlowTimeout, match=r"Task run .hangs. exceeded timeout of 0\.1"):
        asyncio.run(hangs())


def test_get_run_logger_outside_a_run_is_a_plain_logger(caplog: pytest.LogCaptureFixture) -> None:
    logger = get_run_logger()
    with caplog.at_level(logging.INFO, logger="evtui.flow_runs"):
        logger.info("loaded %d rows", 3)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("evtui.flow_runs", "INFO", "loaded 3 rows")
    ]
