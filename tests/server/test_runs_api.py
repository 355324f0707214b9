"""The flow-run API as a client uses it: a real engine, a real flow folder, real child processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from evtui.engine import Engine
from evtui.settings import Settings

DEADLINE = 30.0
"""Seconds a poll waits for a run: child processes start in well under one."""

FLOWS = '''
import time

from evtui import emit_event, flow, get_run_logger, task


@task
def double(x: int) -> int:
    return 2 * x


@flow
def hello(name: str = "world", n: int = 1) -> int:
    """Say hello n times."""
    logger = get_run_logger()
    for i in range(n):
        logger.info("hello %s %d", name, i)
    return double(n)


@flow
def chatty(lines: int = 5, pause: float = 0.05) -> None:
    logger = get_run_logger()
    for i in range(lines):
        logger.info("line %d", i)
        time.sleep(pause)


@flow
def slow(seconds: float = 60) -> None:
    get_run_logger().info("sleeping")
    time.sleep(seconds)


@flow
def fails() -> None:
    raise RuntimeError("boom")


@flow
def producer(tag: str = "a") -> None:
    emit_event("custom.x", resource={"prefect.resource.id": f"custom.{tag}"}, payload={"tag": tag})


@flow
def consumer() -> None:
    get_run_logger().info("consumed")
'''


def write_flows(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.py").write_text(FLOWS)
    return folder


@contextlib.asynccontextmanager
async def engine_with_flows(tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine serving on 127.0.0.1:<ephemeral> with `FLOWS` in its flow folder."""
    folder = write_flows(tmp_path / "flows")
    engine = Engine(Settings(db=tmp_path / "e.db", port=0, flows=[folder]))
    async with engine:
        yield engine


@pytest.fixture
async def flows_engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with engine_with_flows(tmp_path) as engine:
        yield engine


@pytest.fixture
async def api(flows_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=flows_engine.api_url, trust_env=False) as client:
        yield client


async def poll(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Wait until `check()` returns something truthy and return it."""
    deadline = time.monotonic() + DEADLINE
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return result


async def start(api: httpx.AsyncClient, flow: str, **parameters: Any) -> dict[str, Any]:
    response = await api.post("/flow-runs", json={"flow": flow, "parameters": parameters})
    assert response.status_code == 201, response.text
    return response.json()


async def wait_state(api: httpx.AsyncClient, run_id: str, *states: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        run = (await api.get(f"/flow-runs/{run_id}")).json()
        return run if run["state"] in states else None

    return await poll(reached, f"run {run_id} to reach {states}")


async def finished(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    return await wait_state(api, run_id, "Completed", "Failed", "Crashed", "Cancelled", "TimedOut")


def messages(lines: list[dict[str, Any]]) -> list[str]:
    return [line["message"] for line in lines if line["stream"] == "logger"]


# -- flows -----------------------------------------------------------------------------------


async def test_flows_lists_each_flow_with_its_parameters_and_each_broken_file(
    flows_engine: Engine, api: httpx.AsyncClient
) -> None:
    folder = flows_engine.settings.flow_dirs[0]
    (folder / "broken.py").write_text("from evtui import flow\n\n@flow\ndef oops(:\n")
    await flows_engine.registry.reload()

    answer = (await api.get("/flows")).json()
    assert answer["folders"] == [str(folder)]
    by_name = {flow["name"]: flow for flow in answer["flows"]}
    assert {"hello", "chatty", "slow", "fails", "producer", "consumer"} <= set(by_name)
    hello = by_name["hello"]
    assert hello["file"] == str(folder / "demo.py")
    assert hello["description"] == "Say hello n times."
    assert hello["parameters_schema"]["properties"]["n"]["type"] == "integer"
    assert [error["file"] for error in answer["errors"]] == [str(folder / "broken.py")]
    assert "line 4" in answer["errors"][0]["error"]


# -- one run ---------------------------------------------------------------------------------


async def test_a_run_completes_with_its_states_task_runs_and_logs(api: httpx.AsyncClient) -> None:
    created = await start(api, "hello", name="evtui", n=2)
    assert created["flow"] == "hello"
    assert created["parameters"] == {"name": "evtui", "n": 2}
    assert created["cause"]["kind"] == "api"

    run = await finished(api, created["id"])
    assert run["state"] == "Completed", run
    assert run["started"] and run["ended"]
    states = [s["state"] for s in run["states"]]
    assert states[0] in ("Scheduled", "Pending")
    assert states[-2:] == ["Running", "Completed"]
    assert [(t["task"], t["state"]) for t in run["task_runs"]] == [("double", "Completed")]

    logs = (await api.get(f"/flow-runs/{run['id']}/logs")).json()
    assert messages(logs)[:2] == ["hello evtui 0", "hello evtui 1"]
    seqs = [line["seq"] for line in logs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    later = (await api.get(f"/flow-runs/{run['id']}/logs", params={"after": seqs[0]})).json()
    assert [line["seq"] for line in later] == seqs[1:]


async def test_failing_runs_say_why(api: httpx.AsyncClient) -> None:
    raising = await start(api, "fails")
    bad_parameter = await start(api, "hello", n="many")
    run = await finished(api, raising["id"])
    assert (run["state"], "boom" in run["state_message"]) == ("Failed", True)
    run = await finished(api, bad_parameter["id"])
    assert run["state"] == "Failed"
    assert "'n'" in run["state_message"]  # the parameter is named


# -- listing ---------------------------------------------------------------------------------


async def test_runs_are_listed_newest_first_and_filtered(api: httpx.AsyncClient) -> None:
    first = await start(api, "hello")
    failing = await start(api, "fails")
    last = await start(api, "hello", n=3)
    for run in (first, failing, last):
        await finished(api, run["id"])

    listed = (await api.get("/flow-runs")).json()
    assert [run["id"] for run in listed] == [last["id"], failing["id"], first["id"]]
    of_hello = (await api.get("/flow-runs", params={"flow": "hello"})).json()
    assert [run["id"] for run in of_hello] == [last["id"], first["id"]]
    failed = (await api.get("/flow-runs", params={"state": "Failed"})).json()
    assert [run["id"] for run in failed] == [failing["id"]]
    either = (await api.get("/flow-runs", params={"state": ["Failed", "Completed"]})).json()
    assert len(either) == 3
    page = (await api.get("/flow-runs", params={"limit": 1, "offset": 1})).json()
    assert [run["id"] for run in page] == [failing["id"]]


# -- cancel and rerun ------------------------------------------------------------------------


async def test_cancel_stops_a_running_run_and_refuses_a_finished_one(
    api: httpx.AsyncClient,
) -> None:
    created = await start(api, "slow")
    await wait_state(api, created["id"], "Running")
    response = await api.post(f"/flow-runs/{created['id']}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["state"] in ("Cancelling", "Cancelled")
    run = await finished(api, created["id"])
    assert run["state"] == "Cancelled"

    again = await api.post(f"/flow-runs/{created['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["detail"][0]["loc"] == ["path", "id"]


async def test_rerun_starts_the_same_flow_with_the_same_parameters(
    api: httpx.AsyncClient,
) -> None:
    original = await finished(api, (await start(api, "hello", name="again"))["id"])
    response = await api.post(f"/flow-runs/{original['id']}/rerun")
    assert response.status_code == 201, response.text
    rerun = response.json()
    assert rerun["id"] != original["id"]
    assert (rerun["flow"], rerun["parameters"]) == ("hello", {"name": "again"})
    assert rerun["cause"]["kind"] == "rerun"
    assert rerun["cause"]["rerun_of"] == original["id"]
    assert (await finished(api, rerun["id"]))["state"] == "Completed"


# -- errors ----------------------------------------------------------------------------------


async def test_unknown_flows_and_runs_are_404_naming_them(api: httpx.AsyncClient) -> None:
    response = await api.post("/flow-runs", json={"flow": "nope", "parameters": {}})
    assert response.status_code == 404
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "flow"]
    assert error["msg"].startswith("no flow named 'nope'")
    missing = "0192f000-0000-7000-8000-000000000000"
    for method, path in [
        ("GET", ""),
        ("GET", "/logs"),
        ("GET", "/logs/stream"),
        ("GET", "/lineage"),
        ("POST", "/cancel"),
        ("POST", "/rerun"),
    ]:
        response = await api.request(method, f"/flow-runs/{missing}{path}")
        assert response.status_code == 404, (method, path)
        assert response.json()["detail"][0]["loc"] == ["path", "id"]


async def test_malformed_requests_are_422_naming_the_field(api: httpx.AsyncClient) -> None:
    for body, field in [
        ({"flow": "hello", "parameters": [1]}, "parameters"),
        ({"flow": "hello", "params": {}}, "params"),
        ({"parameters": {}}, "flow"),
    ]:
        response = await api.post("/flow-runs", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]
    response = await api.get("/flow-runs", params={"state": "Sleeping"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "state"]
    assert error["msg"].startswith("unknown state 'Sleeping'; one of Scheduled, Pending")
    response = await api.get("/flow-runs", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]

    root = str(api.base_url).removesuffix("/").removesuffix("/api")
    document = (await api.get(f"{root}/openapi.json")).json()
    body = document["paths"]["/api/flow-runs"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/FlowRunCreate")


# -- live logs -------------------------------------------------------------------------------


async def read_stream(api: httpx.AsyncClient, run_id: str, after: int = 0) -> list[dict[str, Any]]:
    items = []
    path = f"/flow-runs/{run_id}/logs/stream"
    async with api.stream("GET", path, params={"after": after}, timeout=DEADLINE) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "application/x-ndjson"
        async for line in stream.aiter_lines():
            if line:
                items.append(json.loads(line))
    return items


async def test_the_log_stream_follows_a_run_to_its_end_and_replays_it_later(
    api: httpx.AsyncClient,
) -> None:
    created = await start(api, "chatty", lines=8)
    items = await read_stream(api, created["id"])
    assert items[-1]["type"] == "end"
    assert (items[-1]["run"]["id"], items[-1]["run"]["state"]) == (created["id"], "Completed")
    lines = items[:-1]
    assert all(item["type"] == "log" for item in lines)
    assert messages(lines) == [f"line {i}" for i in range(8)]
    seqs = [line["seq"] for line in lines]
    assert seqs == sorted(set(seqs))
    stored = (await api.get(f"/flow-runs/{created['id']}/logs")).json()
    assert [line["seq"] for line in stored] == seqs

    replayed = await read_stream(api, created["id"])
    assert replayed[:-1] == lines
    assert replayed[-1]["run"]["state"] == "Completed"


async def test_a_stream_joining_mid_run_misses_no_line(api: httpx.AsyncClient) -> None:
    """Lines logged just before a stream joins are neither live for it nor stored yet."""
    created = await start(api, "chatty", lines=60, pause=0.005)
    run_id = created["id"]

    async def some_lines() -> bool:
        return bool((await api.get(f"/flow-runs/{run_id}/logs")).json())

    await poll(some_lines, "the first stored lines")
    late = await read_stream(api, run_id)
    assert messages(late[:-1]) == [f"line {i}" for i in range(60)]
    resumed = await read_stream(api, run_id, after=late[30]["seq"])
    assert [line["seq"] for line in resumed[:-1]] == [line["seq"] for line in late[31:-1]]
