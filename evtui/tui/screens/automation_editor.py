"""The trigger editor: a new, edited or duplicated automation, with a live preview.

`n` opens it on a new automation, `e` (or `enter`) on the selected one, `y` on a copy of it.
The form shows the event trigger's fields (names complete from the event names and resource
ids evtui has stored lately) and the actions (a flow picker and YAML parameter templates).
About `DEBOUNCE` after the user stops typing, the draft is backtested over the stored events of
the last `PREVIEW_WINDOW`: the preview lists what would match and the parameters rendered for
the first firing, and every problem (text the form cannot read, or the engine's validation)
shows in red under its field. `ctrl+s` saves and closes; a refusal is shown the same way and the
form stays open. `ctrl+r` switches to the whole automation as YAML and back (a YAML mistake is
named with its line, and the form is kept until it reads); compound and sequence triggers are
edited as YAML only. `esc` leaves, asking first when something changed.

Everything goes through `app.source` (`flows`, `event_counts`, `automations`, `backtest`,
`save_automation`), so the editor works the same attached to a remote `evtui serve`.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Input, Select, Static, TextArea

from evtui.automations.export import yaml_text
from evtui.events import FieldError, now_utc
from evtui.tui.editor_draft import (
    FLOW_ACTIONS,
    Form,
    blank_definition,
    definition_of,
    definition_of_automation,
    field_of,
    form_of,
    hidden_fields,
    is_form_editable,
    load_yaml,
    problem_text,
    yaml_line,
)
from evtui.tui.screens.confirm import ConfirmScreen
from evtui.tui.screens.run_flow import schema_problems
from evtui.tui.source import SourceError
from evtui.tui.widgets.editor_actions import ActionEditor
from evtui.tui.widgets.editor_form import TriggerForm, say
from evtui.tui.widgets.editor_preview import EditorPreview

Json = dict[str, Any]

DEBOUNCE = 0.3
"""Seconds of quiet typing before the draft is checked and previewed."""
PREVIEW_WINDOW = timedelta(hours=24)
WINDOW_TEXT = "24 h"
SEEN_WINDOW = timedelta(days=7)
"""Event names and resource ids stored this recently are offered as completions."""
LABELS_FROM = 200
"""The newest events whose resource labels `for_each` offers."""
NARROW_COLUMNS = 110
"""Below this the preview goes under the form instead of beside it."""
FIX_FIRST = "Fix the problems marked in red to see a preview."
UNNAMED = "(unnamed draft)"
"""The name a draft is previewed under until it has one (saving still asks for one)."""


class AutomationEditor(Screen[Json | None]):
    """Dismisses with the saved automation's JSON, or None when the user leaves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="editor.cancel"),
        Binding("ctrl+r", "toggle_yaml", "YAML/form", id="editor.yaml", priority=True),
    ]

    DEFAULT_CSS = """
    AutomationEditor {
        #editor-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
        #editor-problems { color: $error; height: auto; padding: 0 1; display: none; }
        #editor-hidden { color: $text-muted; height: auto; padding: 0 1; display: none; }
        #editor-body { height: 1fr; }
        #editor-form { width: 1fr; }
        #editor-yaml { width: 1fr; padding: 0 1; display: none; }
        #editor-yaml TextArea { height: 1fr; }
        EditorPreview { width: 1fr; }
        #error-yaml { color: $error; height: auto; display: none; }
        &.-narrow {
            #editor-body { layout: vertical; }
            #editor-form, #editor-yaml { width: 1fr; height: 3fr; }
            EditorPreview { width: 1fr; height: 2fr; min-height: 7; }
        }
        &.-yaml #editor-form { display: none; }
        &.-yaml #editor-yaml { display: block; }
    }
    """

    def __init__(
        self,
        automation_id: str | None = None,
        definition: Json | None = None,
        *,
        title: str | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        """Edit the saved automation `automation_id`, or create one starting from `definition`
        (a duplicate's) or from scratch; `clock` ends the preview's window (tests pin it)."""
        super().__init__()
        self.automation_id = automation_id
        self.base: Json = definition or {}
        """The definition the form shows, with everything the form does not."""
        self.heading = title or ("Edit automation" if automation_id else "New automation")
        self.clock = clock
        self.flows: list[Json] = []
        self.baseline: Json = {}
        """The definition as it was opened: leaving asks first when it changed."""
        self.loaded = False
        self.previews = 0
        """Backtests shown so far (tests wait on it)."""
        self.problems: list[FieldError] = []
        """What the last check or save refused."""
        self._yaml_shown = ""
        self._title_shown = ""
        self._timer: Timer | None = None
        self._file: str | None = None
        """The automation file that defines the automation being edited, if one does."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.heading, id="editor-title")
        yield Static(id="editor-problems")
        yield Static(id="editor-hidden")
        with Horizontal(id="editor-body"):
            yield TriggerForm(id="editor-form")
            with Vertical(id="editor-yaml"):
                yield TextArea(
                    language="yaml",
                    soft_wrap=False,
                    show_line_numbers=True,
                    tab_behavior="indent",
                    id="yaml-text",
                )
                yield Static(id="error-yaml")
            yield EditorPreview(id="editor-preview")
        yield Footer()

    def on_mount(self) -> None:
        self._layout_for(self.app.size.width)
        self._load()

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        self.set_class(width < NARROW_COLUMNS, "-narrow")

    @property
    def preview(self) -> EditorPreview:
        return self.query_one(EditorPreview)

    @property
    def in_yaml(self) -> bool:
        return self.has_class("-yaml")

    @property
    def form(self) -> TriggerForm:
        return self.query_one(TriggerForm)

    @property
    def action_editors(self) -> list[ActionEditor]:
        return self.form.action_editors

    # -- loading --------------------------------------------------------------------------

    @work(exclusive=True, group="editor-load", exit_on_error=False)
    async def _load(self) -> None:
        """Flows, completions and (when editing) the automation, then the form."""
        source = self.app.source  # type: ignore[attr-defined]
        since = self.clock() - SEEN_WINDOW
        try:
            flows, names, resources, latest = await asyncio.gather(
                source.flows(),
                source.event_counts("event", since),
                source.event_counts("resource", since),
                source.latest_events(LABELS_FROM),
            )
            found = await source.automations() if self.automation_id is not None else []
        except SourceError as error:
            self.notify(str(error), title="The editor cannot open", severity="error")
            self.dismiss(None)
            return
        self.flows = self.form.flows = flows
        self.form.suggest_names.values = [count["value"] for count in names]
        self.form.suggest_resources.values = [count["value"] for count in resources]
        labels = {label for stored in latest for label in stored.event.resource}
        self.form.suggest_labels.values = sorted(labels)
        if self.automation_id is not None:
            found = [a for a in found if a["id"] == self.automation_id]
            if not found:
                self.notify(f"no automation {self.automation_id}", severity="error")
                self.dismiss(None)
                return
            self.base = definition_of_automation(found[0])
            self.heading = f"Edit automation {found[0]['name']!r}"
            self._file = found[0].get("file")
        if not self.base:
            self.base = blank_definition(flows[0]["name"] if flows else None)
        await self._fill(self.base)
        if not is_form_editable(self.base):
            self._show_yaml(self.base)
        self.baseline = self.current()[0]
        self.loaded = True
        self._title()
        self.query_one("#yaml-text" if self.in_yaml else "#field-name").focus()
        self._preview()

    async def _fill(self, definition: Json) -> None:
        """Show `definition` in the form (it becomes the base the form edits)."""
        self.base = definition
        await self.form.fill(form_of(definition) if is_form_editable(definition) else Form())
        notes = []
        if self._file:
            notes.append(
                f"defined in {self._file}: a save here holds until that file changes (the file"
                " then wins); `evtui automations export` writes the automation out"
            )
        if hidden := hidden_fields(definition):
            notes.append(f"also set, kept as they are (ctrl+r shows them): {', '.join(hidden)}")
        say(self.query_one("#editor-hidden"), notes)

    def current(self) -> tuple[Json, list[FieldError]]:
        """The definition on screen (form or YAML) and the text that could not be read."""
        if not self.in_yaml:
            return definition_of(self.form.read(), self.base)
        try:
            document = load_yaml(self.query_one("#yaml-text", TextArea).text)
        except ValueError as error:
            return {}, [FieldError(loc=["yaml"], msg=str(error))]
        if not isinstance(document, dict):
            return {}, [FieldError(loc=["yaml"], msg="expected a mapping of automation fields")]
        return document, []

    @property
    def dirty(self) -> bool:
        if not self.loaded:
            return False
        if self.in_yaml and self.query_one("#yaml-text", TextArea).text != self._yaml_shown:
            return True
        definition, problems = self.current()
        return bool(problems) or definition != self.baseline

    def _title(self) -> None:
        mark = " ●" if self.dirty else ""
        mode = "YAML" if self.in_yaml else "form"
        keys = "^s save · esc leave · ^r form/YAML"
        text = Text.assemble((f"{self.heading}{mark}", "bold"), f"   {mode}   ", (keys, "dim"))
        if text.plain != self._title_shown:  # an update re-lays the screen out: not per key
            self._title_shown = text.plain
            self.query_one("#editor-title", Static).update(text)

    # -- live check and preview -----------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TriggerForm.Changed)
    def _edited(self) -> None:
        """Any change: check and preview once the typing pauses."""
        if not self.loaded:
            return
        self._title()
        self._stop_checking()
        self._timer = self.set_timer(DEBOUNCE, self._preview, name="editor-debounce")

    def _stop_checking(self) -> None:
        """Drop the pending check and any backtest under way (the next edit starts one)."""
        if self._timer is not None:
            self._timer.stop()
        self.workers.cancel_group(self, "editor-preview")

    def _preview(self) -> None:
        """Check and preview now (the debounce timer's callback)."""
        try:
            definition, problems = self.current()
        except NoMatches:  # the timer fired while the screen is being taken down
            return
        if problems and not definition:  # YAML that does not read: nothing to check
            self.show_problems(problems)
            self.preview.waiting(FIX_FIRST)
            return
        self._backtest({**definition, "name": definition.get("name") or UNNAMED}, problems)

    @work(exclusive=True, group="editor-preview", exit_on_error=False)
    async def _backtest(self, definition: Json, unreadable: list[FieldError]) -> None:
        """Backtest the draft; with `unreadable` fields (left as they were) it is only checked,
        so every problem of the form shows at once, not one field at a time."""
        end = self.clock()
        source = self.app.source  # type: ignore[attr-defined]
        try:
            result = await source.backtest(definition, end - PREVIEW_WINDOW, end)
            self._show_preview(definition, unreadable, result)
        except NoMatches:  # the answer came while the screen is being taken down
            return
        except SourceError as error:
            known = {field_of(problem.loc) for problem in unreadable}
            others = [p for p in error.problems if field_of(p.loc) not in known]
            self.show_problems(unreadable + others)
            self.preview.waiting(FIX_FIRST)

    def _show_preview(self, definition: Json, unreadable: list[FieldError], result: Json) -> None:
        self.show_problems(unreadable + flow_problems(definition, self.flows))
        if unreadable:
            self.preview.waiting(FIX_FIRST)
            return
        self.preview.show(result, WINDOW_TEXT)
        self.previews += 1

    def show_problems(self, problems: list[FieldError]) -> None:
        """Each problem under its field (in YAML mode: all under the YAML); none clears."""
        self.problems = problems
        by_field: dict[str, list[str]] = defaultdict(list)
        for problem in problems:
            if self.in_yaml:
                where = ".".join(map(str, problem.loc))
                text = problem.msg if problem.loc == ["yaml"] else f"{where}: {problem.msg}"
                by_field["yaml"].append(text)
            else:
                by_field[field_of(problem.loc)].append(problem_text(problem))
        self.form.show_problems(by_field)
        say(self.query_one("#error-yaml"), by_field.get("yaml", []))
        say(self.query_one("#editor-problems"), by_field.get("", []))

    # -- keys -----------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self.loaded:
            return
        definition, problems = self.current()
        if problems:
            known = {field_of(problem.loc) for problem in problems}
            checked = [p for p in self.problems if field_of(p.loc) not in known]
            self._refused(problems + checked)
            return
        unrunnable = flow_problems(definition, self.flows)
        if unrunnable:
            self._refused(unrunnable)
            return
        self._save(definition)

    @work(exclusive=True, group="editor-save", exit_on_error=False)
    async def _save(self, definition: Json) -> None:
        source = self.app.source  # type: ignore[attr-defined]
        try:
            saved = await source.save_automation(definition, self.automation_id)
        except SourceError as error:
            self._refused(error.problems)
            return
        self.notify(f"saved {saved['name']!r}", title="Automation")
        self.dismiss(saved)

    def _refused(self, problems: list[FieldError]) -> None:
        """Not saved: the problems inline, focus on the first field named."""
        self.show_problems(problems)
        self.notify(f"not saved: {problem_text(problems[0])}", severity="error")
        if not self.in_yaml:
            self.form.focus_field(field_of(problems[0].loc))

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        name = self.current()[0].get("name") or "this automation"
        self.app.push_screen(ConfirmScreen(f"Discard your changes to {name!r}?"), answered)

    async def action_toggle_yaml(self) -> None:
        if not self.loaded:
            return
        if not self.in_yaml:
            definition, problems = self.current()
            if problems:
                self._refused(problems)
                return
            self._show_yaml(definition)
        else:
            await self._back_to_form()
        self._title()

    def _show_yaml(self, definition: Json) -> None:
        self._yaml_shown = yaml_text(definition)
        area = self.query_one("#yaml-text", TextArea)
        area.load_text(self._yaml_shown)
        self.add_class("-yaml")
        self.show_problems(self.problems)
        area.focus()

    async def _back_to_form(self) -> None:
        """The YAML into the form, unless it does not read or does not fit the form."""
        definition, problems = self.current()
        if not problems and not is_form_editable(definition):
            msg = "only an event trigger fits the form; keep editing this one as YAML"
            problems = [FieldError(loc=["yaml"], msg=msg)]
        if problems:
            self._stop_checking()  # else the next check would hide why the form refused it
            self.show_problems(problems)
            line = yaml_line(problems[0].msg)
            if line is not None:
                self.query_one("#yaml-text", TextArea).cursor_location = (line - 1, 0)
            return
        self.remove_class("-yaml")
        await self._fill(definition)
        self.show_problems([])
        self.query_one("#field-name").focus()
        self._edited()


def flow_problems(definition: Json, flows: list[Json]) -> list[FieldError]:
    """Parameters a flow action's flow does not take, or required ones it leaves out: every
    run would fail, so the preview names them and saving refuses (flows not found are left to
    the runner, which says so when the action runs)."""
    known = {flow["name"]: flow for flow in flows}
    problems = []
    for index, action in enumerate(definition.get("actions") or []):
        flow = known.get(action.get("flow") or "")
        if action.get("type") in FLOW_ACTIONS and flow is not None:
            parameters = action.get("parameters") or {}
            problems += [
                FieldError(loc=["actions", index], msg=problem)
                for problem in schema_problems(flow, parameters)
            ]
    return problems
