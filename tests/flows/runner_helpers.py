"""What the runner tests share: flows to run, an engine with a runner, polling with a deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from polling import until

from evtui.engine import Engine
from evtui.events import ReceivedEvent
from evtui.flows.records import FlowRun
from evtui.flows.runner import Runner
from evtui.settings import Settings

FLOWS = """
import os
import time
from pathlib import Path

from evtui import emit_event, flow, get_run_logger, task


def wait_for_file(path, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@flow
def succeed(rows: int = 1):
    get_run_logger().info("got %d rows", rows)
    return rows * 2


@flow
def fail():
    raise ValueError("bad input")


@flow(retries=2, retry_delay_seconds=0.1)
def flaky(marker: str):
    path = Path(marker)
    attempts = int(path.read_text()) if path.exists() else 0
    path.write_text(str(attempts + 1))
    if attempts == 0:
        raise RuntimeError("the first attempt fails")
    return "ok"


@flow(retries=3)
def strict(rows: int):
    return rows


@flow(retries=1, timeout_seconds=0.5)
def slow():
    time.sleep(30)


@flow
def hold(started: str, release: str):
    Path(started).touch()
    wait_for_file(release)


@flow
def die():
    os._exit(3)


@flow
def raw_output():
    print("printed")
    os.write(1, b"raw out\\n")
    os.write(2, b"raw err\\n")


@flow
def chatty(lines: int = 30, every: int = 10):
    logger = get_run_logger()
    for i in range(lines):
        logger.info("line %d", i)
        if i % every == 0:
            resource = {"prefect.resource.id": f"step.{i}"}
            emit_event("custom.step", resource=resource, payload={"i": i})


@task
def double(x: int) -> int:
    return 2 * x


@flow
def with_tasks():
    return double(2) + double(3)
"""
"""A flow file with one flow per behaviour the tests need."""


def write_flows(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "test_flows.py"
    file.write_text(FLOWS)
    return file


@asynccontextmanager
async def running(tmp_path: Path, **settings: Any) -> AsyncIterator[Runner]:
    """A started engine on a fresh database in `tmp_path`, its flows those of `FLOWS`."""
    folder = write_flows(tmp_path / "flows").parent
    config = Settings(db=tmp_path / "e.db", port=0, flows=[folder], **settings)
    async with Engine(config, serve_http=False) as engine:
        assert engine.registry.errors() == {}
        yield engine.runner


async def finished(runner: Runner, run_id: str, timeout: float = 15.0) -> FlowRun:
    async def check() -> FlowRun | None:
        run = await runner.runs.get_run(run_id)
        return run if run is not None and run.is_final and run_id not in _active(runner) else None

    return await until(check, timeout)


async def in_state(runner: Runner, run_id: str, state: str) -> FlowRun:
    async def check() -> FlowRun | None:
        run = await runner.runs.get_run(run_id)
        return run if run is not None and run.state == state else None

    return await until(check)


def _active(runner: Runner) -> set[str]:
    return {run.id for run in runner.active_runs()}


async def state_names(runner: Runner, run_id: str) -> list[str]:
    return [record.state for record in await runner.runs.states(run_id)]


async def events_of(runner: Runner, resource_id: str) -> list[ReceivedEvent]:
    """Events on a resource or related to it, in commit order."""
    found = []
    for stored in await runner.engine.store.latest(10_000):
        event = stored.event
        ids = {event.resource_id, *(r["prefect.resource.id"] for r in event.related)}
        if resource_id in ids:
            found.append(event)
    return found
