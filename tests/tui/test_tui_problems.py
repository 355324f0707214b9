"""Broken flow files, automation files and database sources are announced once, and fixed."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import WIDE, until

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.problems import ProblemWatch, current_problems


def test_each_problem_is_new_once_and_gone_once() -> None:
    watch = ProblemWatch()
    broken = {
        "flow_file_errors": {"/f/a.py": "line 3: SyntaxError"},
        "db_sources": [
            {"name": "orders", "kind": "sqlite poll", "error": "watch_sql[orders].url: gone"},
            {"name": "ok", "kind": "postgresql", "error": None},
        ],
    }
    assert watch.update(broken) == (
        {
            "flow file /f/a.py": "line 3: SyntaxError",
            "sqlite poll source orders": "watch_sql[orders].url: gone",
        },
        [],
    )
    assert watch.update(broken) == ({}, [])
    worse = broken | {"flow_file_errors": {"/f/a.py": "line 4: NameError"}}
    assert watch.update(worse) == ({"flow file /f/a.py": "line 4: NameError"}, [])
    assert watch.update({"automation_file_errors": {}}) == (
        {},
        ["flow file /f/a.py", "sqlite poll source orders"],
    )
    assert current_problems({"automation_file_errors": {"/a/x.yaml": "name: missing"}}) == {
        "automation file /a/x.yaml": "name: missing"
    }


async def test_a_broken_flow_file_is_notified_and_its_fix_too(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    flow_file = flows / "greet.py"
    flow_file.write_text("from evtui import flow\n\n@flow\ndef greet(:\n    pass\n")
    settings = Settings(db=tmp_path / "e.db", port=0, flows=[flows], spare_children=0)
    app = EvtuiApp(Engine(settings, serve_http=False))

    def said(text: str) -> bool:
        return any(text in f"{n.title}: {n.message}" for n in app._notifications)

    async with app.run_test(size=WIDE) as pilot:
        await until(pilot, lambda: said(f"flow file {flow_file}: "), "the broken file's notice")
        [notice] = [n for n in app._notifications if n.severity == "error"]
        assert "SyntaxError" in str(notice.message) or "invalid syntax" in str(notice.message)
        flow_file.write_text("from evtui import flow\n\n@flow\ndef greet():\n    pass\n")
        await app.source.engine.registry.reload(flow_file)  # type: ignore[attr-defined]
        await until(pilot, lambda: said(f"Fixed: flow file {flow_file} works again"), "the fix")
