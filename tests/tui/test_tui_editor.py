"""The trigger editor as a user meets it: keys in, what the form, the preview and the store show.

A real engine with flows and recent events behind the app; the editor is opened with `n`, `e`,
`y` and `enter` from the main screen, and everything it does goes through `LocalSource`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from panes_helpers import COUNT_TWO, GREET_ON_FILE, flow_settings
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TextArea
from tui_helpers import until

from evtui.automations.models import AutomationCreate
from evtui.automations.store import Origin
from evtui.engine import Engine
from evtui.events import Event
from evtui.tui.app import EvtuiApp
from evtui.tui.commands import selection_commands
from evtui.tui.messages import OpenAutomation
from evtui.tui.screens.automation_editor import AutomationEditor
from evtui.tui.screens.confirm import ConfirmScreen
from evtui.tui.screens.detail import EventDetailScreen
from evtui.tui.screens.main import MainScreen
from evtui.tui.source import LocalSource
from evtui.tui.widgets.automations_pane import AutomationsPane
from evtui.tui.widgets.editor_actions import ActionEditor


def arrival(name: str) -> Event:
    """A file arriving now (the preview reads the last 24 hours)."""
    return Event(
        event="file.created",
        resource={"prefect.resource.id": f"file./in/{name}", "prefect.resource.name": name},
        payload={"size": len(name) * 100},
    )


@dataclass
class Editing:
    app: EvtuiApp
    engine: Engine
    source: LocalSource
    pilot: Pilot

    @property
    def editor(self) -> AutomationEditor:
        screen = self.app.screen
        assert isinstance(screen, AutomationEditor), f"not in the editor but {screen!r}"
        return screen

    async def until(self, condition: Any, what: str) -> None:
        await until(self.pilot, condition, what, deadline=20)

    async def open(self, *keys: str) -> AutomationEditor:
        """Press `keys`, then wait for the editor's form and its first preview."""
        await self.pilot.press(*keys)

        def ready() -> bool:
            screen = self.app.screen
            return isinstance(screen, AutomationEditor) and screen.loaded

        await self.until(ready, "the editor to load")
        await self.previewed(0)
        return self.editor

    async def previewed(self, after: int) -> None:
        await self.until(lambda: self.editor.previews > after, "a preview")

    async def type_into(self, field: str, text: str) -> None:
        """Focus a field, clear it and type, as a user would."""
        widget = self.editor.query_one(f"#field-{field}")
        widget.focus()
        await self.pilot.pause()
        if isinstance(widget, Input):
            await self.pilot.press("end", "ctrl+u", *text)
        else:
            await self.pilot.press("ctrl+a" if isinstance(widget, TextArea) else "end")
            widget.clear()  # type: ignore[attr-defined]
            await self.pilot.press(*text)

    def error(self, field: str) -> str:
        error = self.editor.query_one(f"#error-{field}", Static)
        return str(error.render()) if error.display else ""

    async def error_shown(self, field: str, text: str) -> None:
        await self.until(lambda: text in self.error(field), f"{text!r} under {field}")


@contextlib.asynccontextmanager
async def editing(tmp_path: Path, size: tuple[int, int] = (140, 40)) -> AsyncIterator[Editing]:
    engine = Engine(flow_settings(tmp_path), serve_http=False)
    source = LocalSource(engine)
    app = EvtuiApp(source)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: engine.registry.get("greet") is not None, "the flows")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await engine.ingest([arrival(name) for name in ("a.csv", "b.parquet", "c.csv")])
        yield Editing(app, engine, source, pilot)


@pytest.fixture
async def ed(tmp_path: Path) -> AsyncIterator[Editing]:
    async with editing(tmp_path) as opened:
        yield opened


async def test_a_new_automation_completes_previews_and_saves(ed: Editing) -> None:
    editor = await ed.open("n")
    assert editor.heading == "New automation"
    assert ed.app.focused is editor.query_one("#field-name")
    await ed.pilot.press(*"csvs", "tab", "tab")  # past `enabled` to the event names
    hint = editor.query_one("#hint-expect", Static)
    await ed.until(lambda: hint.display, "the names seen under the field")
    assert str(hint.render()) == "seen: file.created   (→ completes)"
    await ed.pilot.press(*"file.cr")
    expect = editor.query_one("#field-expect", Input)
    await ed.until(lambda: expect._suggestion == "file.created", "the name to be suggested")
    await ed.pilot.press("right")
    assert expect.value == "file.created"

    await ed.pilot.press("tab")
    assert not hint.display
    assert "seen: file./in/a.csv, file./in/b.parquet" in str(
        editor.query_one("#hint-match").render()
    )
    await ed.type_into("match", "file./in/*.csv")
    body = ed.editor.query_one(ActionEditor).body
    body.focus()
    count = editor.previews
    body.load_text("name: '{{ event.resource.name }}'")
    await ed.previewed(count)
    result = editor.preview.result
    assert result is not None and result["matched_count"] == 2
    first = result["firings"][0]["actions"][0]["parameters"]
    assert first == {"flow": "greet", "parameters": {"name": "a.csv"}}
    shown = str(editor.preview.query_one("#preview-summary", Static).render())
    assert shown == "2 events of the last 24 h match; it would have fired 2 times"

    matched = editor.preview.query_one(OptionList)
    matched.focus()
    await ed.pilot.press("down", "enter")  # the older match: a.csv
    await ed.until(lambda: isinstance(ed.app.screen, EventDetailScreen), "the event detail")
    detail = ed.app.screen
    assert isinstance(detail, EventDetailScreen)
    await ed.until(lambda: detail.stored is not None, "the event to load")
    assert detail.stored.event.resource_id == "file./in/a.csv"  # type: ignore[union-attr]
    await ed.pilot.press("escape")
    await ed.until(lambda: ed.app.screen is editor, "back in the editor")

    await ed.pilot.press("ctrl+s")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    [saved] = ed.engine.automations.all()
    assert saved.name == "csvs"
    assert saved.trigger.expect == ["file.created"]
    assert dict(saved.trigger.match.items()) == {"prefect.resource.id": "file./in/*.csv"}
    assert saved.actions[0].parameters == {"name": "{{ event.resource.name }}"}  # type: ignore[union-attr]


async def test_problems_show_under_their_fields_and_the_form_stays_open(ed: Editing) -> None:
    await ed.open("n")
    await ed.type_into("threshold", "0")
    await ed.type_into("within", "5x")
    await ed.error_shown("within", "'5x' is not a duration")
    await ed.error_shown("threshold", "greater than or equal to 1")
    assert "Fix the problems" in str(ed.editor.preview.query_one("#preview-summary").render())

    await ed.pilot.press("ctrl+s")
    await ed.pilot.pause()
    assert isinstance(ed.app.screen, AutomationEditor)
    assert ed.app.focused is ed.editor.query_one("#field-within")
    assert ed.error("name") == ""  # a draft is previewed without a name; saving asks for one

    await ed.type_into("within", "1h30m")
    await ed.type_into("threshold", "2")
    await ed.type_into("match_payload", "size: {gt: a}")
    await ed.error_shown("match_payload", "comparison 'gt' needs a number")
    await ed.until(lambda: ed.error("within") == "", "the within problem to go")
    await ed.type_into("match_payload", "size: {gt: 5}")
    await ed.until(lambda: ed.editor.problems == [], "every problem to go")

    await ed.pilot.press("ctrl+s")
    await ed.error_shown("name", "at least 1 character")
    assert isinstance(ed.app.screen, AutomationEditor)
    await ed.type_into("name", "big")
    await ed.pilot.press("ctrl+s")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    [saved] = ed.engine.automations.all()
    assert (saved.trigger.threshold, saved.trigger.within.total_seconds()) == (2, 5400)  # type: ignore[union-attr]
    assert saved.trigger.match_payload == {"size": {"gt": 5}}  # type: ignore[union-attr]


async def test_raw_yaml_and_back(ed: Editing) -> None:
    await ed.open("n")
    await ed.type_into("name", "raw")
    await ed.pilot.press("ctrl+r")
    area = ed.editor.query_one("#yaml-text", TextArea)
    assert ed.editor.in_yaml and ed.app.focused is area
    assert area.text.startswith("name: raw\n")

    area.load_text(area.text.replace("threshold: 1", "threshold: [1"))
    await ed.pilot.press("ctrl+r")
    await ed.error_shown("yaml", "not valid YAML")
    assert ed.editor.in_yaml and "line " in ed.error("yaml")

    area.load_text(area.text.replace("threshold: [1", "threshold: 0"))
    await ed.error_shown("yaml", "trigger.threshold: Input should be greater than or equal to 1")
    area.load_text(area.text.replace("threshold: 0", "threshold: 3"))
    await ed.until(lambda: ed.error("yaml") == "", "the YAML problem to go")
    await ed.pilot.press("ctrl+r")
    assert not ed.editor.in_yaml
    assert ed.editor.query_one("#field-threshold", Input).value == "3"
    assert ed.editor.query_one("#field-name", Input).value == "raw"

    await ed.pilot.press("ctrl+r")
    sequence = (
        "name: two steps\ntrigger:\n  triggers:\n  - expect: [a]\n  - expect: [b]\nactions: []\n"
    )
    area.load_text(sequence)
    await ed.pilot.press("ctrl+r")
    await ed.error_shown("yaml", "only an event trigger fits the form")
    assert ed.editor.in_yaml
    await ed.pilot.press("ctrl+s")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    [saved] = ed.engine.automations.all()
    assert (saved.name, saved.trigger.type) == ("two steps", "sequence")


async def test_it_fits_80_by_24_and_leaving_asks_only_after_a_change(ed: Editing) -> None:
    await ed.pilot.resize_terminal(80, 24)
    editor = await ed.open("n")
    assert editor.has_class("-narrow")
    body = editor.action_editors[0].body
    body.focus()
    await ed.pilot.pause()
    form = editor.query_one("#editor-form")
    assert form.max_scroll_y > 0 and form.scroll_y > 0  # scrolled down to the action
    assert editor.preview.region.height >= 5
    assert body.region.bottom <= editor.preview.region.y

    await ed.pilot.press("escape")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close at once")

    await ed.open("n")
    await ed.pilot.press(*"half")
    await ed.pilot.press("escape")
    assert isinstance(ed.app.screen, ConfirmScreen)
    await ed.pilot.press("n")
    assert ed.editor.query_one("#field-name", Input).value == "half"
    await ed.pilot.press("escape", "y")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    assert ed.engine.automations.all() == []


async def test_edit_duplicate_and_open_from_the_automations_pane(ed: Editing) -> None:
    saved = await ed.source.save_automation(GREET_ON_FILE)
    await ed.source.save_automation(COUNT_TWO)
    pane = ed.app.main.query_one(AutomationsPane)
    await ed.until(lambda: pane.table.row_count == 2, "both automations in the pane")
    await ed.pilot.press("2")
    pane.table.move_cursor(row=pane.table.get_row_index(saved["id"]))
    titles = [title for title, _, _ in selection_commands(ed.app.main)]
    assert "automation: edit greet new files" in titles
    assert "automation: duplicate greet new files" in titles
    assert "automation: new…" in titles

    editor = await ed.open("e")
    assert editor.heading == "Edit automation 'greet new files'"
    assert editor.query_one("#field-expect", Input).value == "file.created"
    [action] = editor.action_editors
    assert (action.kind, action.flow) == ("run-flow", "greet")
    assert action.body.text == "name: \"{{ event.resource['prefect.resource.name'] }}\""
    assert editor.preview.result is not None and editor.preview.result["matched_count"] == 3
    await ed.type_into("threshold", "2")
    await ed.pilot.press("ctrl+s")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    edited = ed.engine.automations.get(UUID(saved["id"]))
    assert edited is not None and edited.trigger.threshold == 2  # type: ignore[union-attr]

    editor = await ed.open("y")
    assert editor.heading == "Duplicate of 'greet new files'"
    assert editor.query_one("#field-name", Input).value == "greet new files (copy)"
    await ed.pilot.press("ctrl+s")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    names = sorted(a.name for a in ed.engine.automations.all())
    assert names == ["greet new files", "greet new files (copy)", "two reports in an hour"]

    await ed.until(lambda: pane.table.row_count == 3, "the copy in the pane")
    editor = await ed.open("enter")
    assert editor.automation_id == pane.table.selected_key
    await ed.pilot.press("escape")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")

    gone = "00000000-0000-0000-0000-00000000dead"
    ed.app.post_message(OpenAutomation(gone))
    await ed.until(lambda: any(gone in n.message for n in ed.app._notifications), "why not")
    assert isinstance(ed.app.screen, MainScreen)


async def test_a_flows_parameters_are_checked_against_its_signature(ed: Editing) -> None:
    editor = await ed.open("n")
    await ed.type_into("name", "held")
    [action] = editor.action_editors
    action.query_one(".action-flow").value = "hold"  # type: ignore[attr-defined]
    await ed.until(lambda: action.query_one(".field-error").display, "the missing parameter")
    error = str(action.query_one(".field-error").render())
    assert error == "parameter 'release': required, and has no default"
    assert editor.preview.result is not None  # the preview still shows what would match
    await ed.pilot.press("ctrl+s")
    await ed.pilot.pause()
    assert isinstance(ed.app.screen, AutomationEditor) and ed.app.focused is action.body
    await ed.pilot.press(*"release: x")
    await ed.until(lambda: not action.query_one(".field-error").display, "the problem to go")
    await ed.pilot.press("ctrl+s")
    await ed.until(lambda: isinstance(ed.app.screen, MainScreen), "the editor to close")
    [saved] = ed.engine.automations.all()
    assert saved.actions[0].parameters == {"release": "x"}  # type: ignore[union-attr]


async def test_actions_are_added_changed_and_removed(ed: Editing) -> None:
    editor = await ed.open("n")
    await ed.type_into("name", "two")
    await ed.pilot.click("#add-action")
    await ed.until(lambda: len(editor.action_editors) == 2, "a second action")
    second = editor.action_editors[1]
    second.query_one(".action-type").value = "emit-event"  # type: ignore[attr-defined]
    await ed.until(lambda: "event: my.event" in second.body.text, "the emit-event example")
    second.body.load_text("event: {event: copied}")
    await ed.until(lambda: "resource" in str(second.query_one(".field-error").render()), "")
    await ed.pilot.click(".action-remove")
    await ed.until(lambda: len(editor.action_editors) == 1, "the first action removed")
    assert editor.action_editors[0].border_title == "action 1"
    assert editor.action_editors[0].kind == "emit-event"
    await ed.until(lambda: editor.action_editors[0].query_one(".field-error").display, "")
    message = str(editor.action_editors[0].query_one(".field-error").render())
    assert message.startswith("event: ") and "missing resource" in message


async def test_an_automation_from_a_file_says_which_file_defines_it(ed: Editing) -> None:
    spec = AutomationCreate.model_validate(GREET_ON_FILE)
    await ed.engine.automations.create(spec, origin=Origin("/work/automations/greet.yaml", "d"))
    await ed.until(lambda: ed.app.main.query_one(AutomationsPane).automations, "the automation")
    editor = await ed.open("2", "e")
    note = str(editor.query_one("#editor-hidden", Static).render())
    assert note.startswith("defined in /work/automations/greet.yaml: a save here holds until")
    await ed.pilot.press("escape")
    copy = await ed.open("2", "y")
    assert "defined in" not in str(copy.query_one("#editor-hidden", Static).render())
