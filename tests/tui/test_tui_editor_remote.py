"""The trigger editor attached to a running server (`evtui --connect`): the same form, preview,
inline problems and saves, every one of them an HTTP call to a real server on loopback; and the
completions' source (`event_counts`) answering the same locally and over HTTP."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
import test_tui_remote_source
from test_tui_editor import arrival
from textual.widgets import Input, Static
from tui_helpers import until

from evtui.engine import Engine
from evtui.events import now_utc
from evtui.tui.app import EvtuiApp
from evtui.tui.remote_source import RemoteSource
from evtui.tui.screens.automation_editor import AutomationEditor
from evtui.tui.screens.main import MainScreen
from evtui.tui.source import LocalSource, SourceError
from evtui.tui.widgets.automations_pane import AutomationsPane

served = test_tui_remote_source.served
"""The remote source tests' server: a real engine over HTTP, a `greet` flow, key `sesame`."""


async def test_the_editor_over_http(served: Engine) -> None:
    await served.ingest([arrival(name) for name in ("a.csv", "b.csv")])
    app = EvtuiApp(RemoteSource(served.api_url, api_key="sesame"))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")

        def editor_ready() -> bool:
            screen = app.screen
            return isinstance(screen, AutomationEditor) and screen.previews > 0

        await pilot.press("n")
        await until(pilot, editor_ready, "the editor and its first preview", deadline=20)
        editor = app.screen
        assert isinstance(editor, AutomationEditor)
        assert editor.form.suggest_names.values == ["file.created"]
        assert editor.form.suggest_resources.values == ["file./in/a.csv", "file./in/b.csv"]
        assert [a.flow for a in editor.action_editors] == ["greet"]
        assert editor.preview.result is not None and editor.preview.result["matched_count"] == 2

        editor.query_one("#field-threshold").focus()
        await pilot.press("end", "ctrl+u", "0")
        error = editor.query_one("#error-threshold", Static)
        await until(pilot, lambda: "greater than or equal to 1" in str(error.render()), "")
        await pilot.press("backspace", "2")
        await until(pilot, lambda: not error.display, "the threshold problem to go")
        editor.query_one("#field-name").focus()
        await pilot.press(*"remote")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the editor to close")
        [saved] = served.automations.all()
        assert (saved.name, saved.trigger.threshold) == ("remote", 2)  # type: ignore[union-attr]

        pane = app.main.query_one(AutomationsPane)
        await until(pilot, lambda: pane.table.row_count == 1, "the automation in the pane")
        await pilot.press("2", "e")
        await until(pilot, editor_ready, "the editor on the saved automation", deadline=20)
        editor = app.screen
        assert isinstance(editor, AutomationEditor)
        name = editor.query_one("#field-name", Input)
        assert name.value == "remote"
        name.focus()
        await pilot.press("end", *" edited", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the editor to close")
        edited = served.automations.get(UUID(editor.automation_id or ""))
        assert edited is not None and edited.name == "remote edited"


async def test_event_counts_are_the_same_from_either_source(served: Engine) -> None:
    await served.ingest([arrival(name) for name in ("a.csv", "b.csv", "a.csv")])
    since = now_utc() - timedelta(hours=1)
    remote = RemoteSource(served.api_url, api_key="sesame")
    await remote.start()
    try:
        local = LocalSource(served)  # over the same, already started, engine
        for countable in ("event", "resource"):
            assert await remote.event_counts(countable, since) == await local.event_counts(
                countable, since
            )
        names = await local.event_counts("event", since)
        assert [(n["value"], n["count"]) for n in names] == [("file.created", 3)]
        resources = await local.event_counts("resource", since)
        assert [(r["value"], r["count"]) for r in resources] == [
            ("file./in/a.csv", 2),
            ("file./in/b.csv", 1),
        ]
        for source in (local, remote):
            with pytest.raises(SourceError) as refused:
                await source.event_counts("colour", since)
            assert refused.value.problems[0].loc[-1] == "countable"
    finally:
        await remote.stop()
