"""`evtui automations ls|show|apply|export|enable|disable|rm` against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import yaml
from automation_helpers import CSV

from evtui import cli
from evtui.engine import Engine

Run = Callable[..., Awaitable[tuple[int, str, str]]]


@pytest.fixture
def run(engine: Engine, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `evtui ...` pointed at the engine (in a thread: the server shares this loop)."""

    async def run_(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(cli.main, [*argv, "--api-url", engine.api_url])
        out, err = capsys.readouterr()
        return code, out, err

    return run_


def write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


async def test_apply_is_idempotent_by_name(run: Run, engine: Engine, tmp_path):
    first = write(tmp_path / "csv.yaml", CSV)
    others = write(tmp_path / "more.yaml", {"automations": [{**CSV, "name": "second"}]})

    code, out, _ = await run("automations", "apply", str(first), str(others))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("created    csv to warehouse  (")
    assert lines[1].startswith("created    second  (")

    code, out, _ = await run("automations", "apply", str(first), str(others))
    assert out.splitlines() == ["unchanged  csv to warehouse", "unchanged  second"]

    write(first, {**CSV, "description": "edited"})
    code, out, _ = await run("automations", "apply", str(first))
    assert out.splitlines() == ["updated    csv to warehouse"]
    [saved] = engine.automations.by_name("csv to warehouse")
    assert saved.description == "edited"


async def test_ls_show_enable_disable_rm(run: Run, engine: Engine, tmp_path):
    three = {**CSV, "trigger": {**CSV["trigger"], "threshold": 3, "within": 60}}
    await run("automations", "apply", str(write(tmp_path / "a.yaml", three)))
    [saved] = engine.automations.all()

    code, out, _ = await run("automations", "ls")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["NAME", "STATE", "TRIGGER", "ACTIONS", "ID"]
    assert row.split() == [
        "csv", "to", "warehouse", "enabled", "reactive", "file.created:", "3", "in", "60s",
        "run-flow", str(saved.id),
    ]  # fmt: skip

    code, out, _ = await run("automations", "disable", "csv to warehouse")
    assert (code, out) == (0, "disabled automation csv to warehouse\n")
    assert engine.automations.get(saved.id).enabled is False
    code, out, _ = await run("automations", "enable", str(saved.id))
    assert (code, out) == (0, "enabled automation csv to warehouse\n")
    assert engine.automations.get(saved.id).enabled is True

    code, out, _ = await run("automations", "show", "csv to warehouse")
    assert code == 0
    assert out.startswith("automation  csv to warehouse  (enabled)\n")
    assert f"id          {saved.id}\n" in out
    assert "flow: process_new_file\n" in out

    code, out, _ = await run("automations", "rm", "csv to warehouse")
    assert (code, out) == (0, "removed automation csv to warehouse\n")
    code, out, _ = await run("automations", "ls")
    assert out == "no automations (add one with `evtui automations apply FILE`)\n"


async def test_export_round_trips_through_apply(run: Run, engine: Engine, tmp_path):
    source = write(tmp_path / "in.yaml", [CSV, {**CSV, "name": "second", "tags": ["etl"]}])
    await run("automations", "apply", str(source))
    exported = tmp_path / "out.yaml"

    code, out, _ = await run("automations", "export", "--all", "-o", str(exported))
    assert (code, out) == (0, f"exported 2 automations to {exported}\n")
    text = exported.read_text()
    assert "id:" not in text

    code, out, _ = await run("automations", "apply", str(exported))
    assert out.splitlines() == ["unchanged  csv to warehouse", "unchanged  second"]
    code, out, _ = await run("automations", "export", "--all")
    assert out == text

    code, out, _ = await run("automations", "export", "second")
    assert yaml.safe_load(out)["tags"] == ["etl"]


async def test_errors_are_one_line(run: Run, engine: Engine, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrigger: [\n")
    code, _, err = await run("automations", "apply", str(bad))
    assert code == 2
    assert err.strip() == f"evtui: error: {bad}: line 3: not valid YAML: " + (
        "expected the node content, but found '<stream end>'"
    )

    bad_field = write(tmp_path / "field.yaml", {**CSV, "trigger": {"posture": "Sideways"}})
    code, _, err = await run("automations", "apply", str(bad_field))
    assert code == 2
    assert f"{bad_field}: trigger.posture: Input should be 'Reactive' or 'Proactive'" in err
    assert len(err.strip().splitlines()) == 1

    code, _, err = await run("automations", "show", "nothing")
    assert code == 2
    assert "no automation named 'nothing'" in err

    await run("automations", "apply", str(write(tmp_path / "a.yaml", CSV)))
    await engine.automations.create(engine.automations.all()[0].definition())
    code, _, err = await run("automations", "rm", "csv to warehouse")
    assert code == 2
    assert "2 automations are named 'csv to warehouse'; give an id instead: " in err

    code, _, err = await run("automations", "export")
    assert "name the automations to export, or give --all" in err

    code, _, err = await run("automations", "show", "00000000-0000-0000-0000-000000000000")
    assert code == 2
    assert "no automation 00000000-0000-0000-0000-000000000000" in err
