"""`evtui run`, `runs`, `logs` and `flows` as a user types them, against a served engine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from evtui.cli import main
from evtui.commands.runs import parameters_text, parse_value, run_parameters
from evtui.engine import Engine
from evtui.settings import Settings
from tests.conftest import start_serve
from tests.server.test_runs_api import engine_with_flows, poll, write_flows

Cli = Callable[..., Awaitable[tuple[int, str, str]]]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    async with engine_with_flows(tmp_path) as started:
        yield started


@pytest.fixture
def evtui(engine: Engine, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `evtui ARGS --api-url <engine>` in a thread (the engine keeps serving on this loop)."""

    async def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*args, "--api-url", engine.api_url])
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def test_run_wait_prints_the_logs_and_exits_0_only_when_completed(evtui: Cli) -> None:
    code, out, err = await evtui("run", "hello", "-p", "name=cli", "-p", "n=2", "--wait")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines[0]) == 36  # the run id comes first, for scripts
    assert "INFO    " in lines[1] and lines[1].endswith("hello cli 0")
    assert any(line.endswith("hello cli 1") for line in lines)
    assert lines[-1].startswith("Completed: run ")
    assert "of hello after" in lines[-1]

    code, out, _ = await evtui("run", "fails", "--wait")
    assert code == 1
    assert out.splitlines()[-1].startswith("Failed: ")
    assert "boom" in out.splitlines()[-1]


async def test_run_sends_the_parameters_and_refuses_bad_ones_in_one_line(
    evtui: Cli, engine: Engine
) -> None:
    code, out, err = await evtui(
        "run", "hello", "--json-params", '{"n": 3, "name": "j"}', "-p", "name=p"
    )
    assert code == 0, err
    run = await engine.runner.runs.get_run(out.strip())
    assert run is not None
    assert run.parameters == {"n": 3, "name": "p"}
    assert run.cause.kind == "api"

    code, _, err = await evtui("run", "nope")
    assert code == 2
    assert "body.flow: no flow named 'nope'" in err and len(err.splitlines()) == 1
    code, _, err = await evtui("run", "hello", "-p", "name")
    assert (code, err.strip()) == (2, "evtui: error: -p: expected KEY=VALUE, got 'name'")
    code, _, err = await evtui("run", "hello", "--json-params", "[1]")
    assert (code, err.strip()) == (2, "evtui: error: --json-params: expected an object, got list")


async def finished_run(evtui: Cli, *args: str) -> str:
    code, out, err = await evtui("run", *args, "--wait")
    assert code in (0, 1), err
    return out.splitlines()[0]


async def test_runs_lists_newest_first_as_a_table_or_json(evtui: Cli) -> None:
    first = await finished_run(evtui, "hello")
    failed = await finished_run(evtui, "fails")

    code, out, _ = await evtui("runs")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["RUN", "FLOW", "STATE", "CAUSE", "STARTED", "DURATION"]
    assert [row.split()[:4] for row in rows] == [
        [failed[-8:], "fails", "Failed", "api"],
        [first[-8:], "hello", "Completed", "api"],
    ]
    assert rows[0].split()[-1].endswith("s")

    code, out, _ = await evtui("runs", "--state", "Completed", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [first]
    code, out, _ = await evtui("runs", "--flow", "fails", "--limit", "1", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [failed]
    code, _, err = await evtui("runs", "--state", "Asleep")
    assert code == 2 and "query.state: unknown state 'Asleep'" in err


async def test_logs_by_id_prefix_or_suffix(evtui: Cli) -> None:
    run_id = await finished_run(evtui, "hello", "-p", "n=2")
    for given in (run_id, run_id[-8:], run_id[:13]):
        code, out, err = await evtui("logs", given)
        assert code == 0, err
        assert [line.split(": ", 1)[1] for line in out.splitlines()][:2] == [
            "hello world 0",
            "hello world 1",
        ]
    code, _, err = await evtui("logs", "zzzzzzzz")
    assert code == 2 and "no run id starts or ends with 'zzzzzzzz'" in err


async def test_logs_follow_prints_until_the_run_ends(evtui: Cli, engine: Engine) -> None:
    code, out, _ = await evtui("run", "chatty", "-p", "lines=6")
    run_id = out.strip()
    code, out, err = await evtui("logs", run_id[-8:], "--follow")
    assert code == 0, err
    assert [line.rsplit(": ", 1)[1] for line in out.splitlines()] == [f"line {i}" for i in range(6)]

    async def final() -> bool:
        run = await engine.runner.runs.get_run(run_id)
        return run is not None and run.is_final

    await poll(final, "the followed run to be final")


async def test_flows_lists_flows_with_parameters_and_broken_files(
    evtui: Cli, engine: Engine
) -> None:
    folder = engine.settings.flow_dirs[0]
    (folder / "broken.py").write_text("import no_such_module_anywhere\n")
    await engine.registry.reload()
    code, out, err = await evtui("flows")
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert str(folder / "demo.py") in rows["hello"]
    assert rows["hello"].endswith('name: string = "world", n: integer = 1')
    assert rows["consumer"].endswith("-")
    assert f"error in {folder / 'broken.py'}" in err
    assert "no_such_module_anywhere" in err


async def test_commands_send_the_api_key_even_when_following(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "one.py").write_text(
        "from evtui import flow\n\n@flow\ndef one() -> str:\n    print('hi')\n    return 'x'\n"
    )
    settings = Settings(db=tmp_path / "k.db", port=0, flows=[folder], api_key="sesame")
    async with Engine(settings) as engine:
        url = ["--api-url", engine.api_url]
        code = await asyncio.to_thread(main, ["run", "one", "--wait", *url, "--api-key", "sesame"])
        assert code == 0
        assert await asyncio.to_thread(main, ["flows", *url]) == 2


def test_run_against_evtui_serve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_flows(tmp_path / "flows")
    server = start_serve(tmp_path / "served.db", "--flows", str(folder))
    try:
        assert main(["run", "hello", "-p", "n=1", "--wait", "--api-url", server.api_url]) == 0
        assert capsys.readouterr().out.splitlines()[-1].startswith("Completed: ")
    finally:
        assert server.stop() == 0


def test_parameter_values_are_json_when_they_parse() -> None:
    assert [parse_value(v) for v in ("42", "true", "[1, 2]", '"7"', "abc", "007", "")] == [
        42, True, [1, 2], "7", "abc", "007", ""
    ]  # fmt: skip
    assert run_parameters(["a=1", "b=x=y"], '{"a": 0, "c": null}') == {
        "a": 1,
        "b": "x=y",
        "c": None,
    }


def test_parameters_text_reads_the_json_schema() -> None:
    schema = {
        "properties": {
            "path": {"type": "string"},
            "rows": {"type": "integer", "default": 10},
            "tag": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["path"],
    }
    assert parameters_text(schema) == "path: string, rows: integer = 10, tag: string|null = null"
