"""Snapshots of the trigger editor: a live preview, and a problem shown under its field.

Plain `def` tests (snap_compare runs the app itself). Pinned: the stored events (ids and times
from `make_event`), the editor's clock (the preview window ends an hour after them), the time
zone (UTC), the flows folder, and the cursors (no blink).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from panes_helpers import flow_settings
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from tui_helpers import BASE_TIME, make_event, until

from evtui.engine import Engine
from evtui.settings import Settings
from evtui.tui.app import EvtuiApp
from evtui.tui.screens.automation_editor import AutomationEditor

SIZE = (120, 34)
DRAFT: dict[str, Any] = {
    "name": "archive new reports",
    "trigger": {
        "type": "event",
        "posture": "Reactive",
        "expect": ["file.created"],
        "match": {"prefect.resource.id": "file./data/in/report-*.csv"},
        "threshold": 1,
        "within": 0,
    },
    "actions": [
        {
            "type": "run-flow",
            "flow": "greet",
            "parameters": {"name": "{{ event.resource['prefect.resource.name'] }}", "lines": 1},
        }
    ],
}


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Settings:
    settings = flow_settings(tmp_path)
    monkeypatch.setattr("evtui.engine.now_utc", lambda: BASE_TIME)

    async def seed() -> None:
        async with Engine(settings, serve_http=False) as engine:
            names = ["file.created", "file.created", "file.modified", "file.created"]
            await engine.ingest([make_event(i, name) for i, name in enumerate(names)])

    asyncio.run(seed())
    return settings


def open_editor(then: Callable[[Pilot, AutomationEditor], Awaitable[None]]):
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        engine = app.source.engine  # type: ignore[attr-defined]
        await until(pilot, lambda: engine.registry.get("greet") is not None, "the flows")
        editor = AutomationEditor(definition=DRAFT, clock=lambda: BASE_TIME + timedelta(hours=1))
        app.push_screen(editor)
        await until(pilot, lambda: editor.previews > 0, "the first preview")
        for widget in [*editor.query(Input), *editor.query(TextArea)]:
            widget.cursor_blink = False
        await then(pilot, editor)
        await pilot.pause()

    return run_before


async def nothing_more(pilot: Pilot, editor: AutomationEditor) -> None:
    editor.query_one("#field-match").focus()


async def threshold_zero(pilot: Pilot, editor: AutomationEditor) -> None:
    editor.query_one("#field-threshold").focus()
    await pilot.press("end", "ctrl+u", "0")
    error = editor.query_one("#error-threshold", Static)
    await until(pilot, lambda: error.display, "the problem under the threshold")


def test_editor_with_a_live_preview(snap_compare, seeded: Settings) -> None:
    app = EvtuiApp(Engine(seeded, serve_http=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=open_editor(nothing_more))


def test_editor_with_an_inline_error(snap_compare, seeded: Settings) -> None:
    app = EvtuiApp(Engine(seeded, serve_http=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=open_editor(threshold_zero))
