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
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static, TextArea

from evtui.automations.export import yaml_text
from evtui.events import FieldError, now_utc
from evtui.tui.editor_draft import (
    POSTURES,
    ActionForm,
    Form,
    action_form,
    blank_definition,
    definition_of,
    definition_of_automation,
    field_of,
    form_of,
    is_form_editable,
    load_yaml,
    problem_text,
    yaml_line,
)
from evtui.tui.screens.confirm import ConfirmScreen
from evtui.tui.source import SourceError
from evtui.tui.widgets.editor_actions import ActionEditor
from evtui.tui.widgets.editor_preview import EditorPreview
from evtui.tui.widgets.editor_suggest import SuggestLastItem

Json = dict[str, Any]

DEBOUNCE = 0.3
"""Seconds of quiet typing before the draft is checked and previewed."""
PREVIEW_WINDOW = timedelta(hours=24)
WINDOW_TEXT = "24 h"
SEEN_WINDOW = timedelta(days=7)
"""Event names and resource ids stored this recently are offered as completions."""
NARROW_COLUMNS = 110
"""Below this the preview goes under the form instead of beside it."""
FIX_FIRST = "Fix the problems marked in red to see a preview."
UNNAMED = "(unnamed draft)"
"""The name a draft is previewed under until it has one (saving still asks for one)."""
TEXT_FIELDS = {
    "name": ("name", "what the automation is called"),
    "expect": ("event names", "globs, comma-separated: file.created, orders.*"),
    "match": ("resource", "resource id globs, or label=glob; comma-separated"),
    "for_each": ("for each", "labels that split the count (a bucket per value)"),
    "threshold": ("threshold", "how many events"),
    "within": ("within", "window: seconds, or 90s, 5m, 1h30m (0: no window)"),
}
"""Input fields: form attribute -> (label, placeholder)."""


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
        #editor-body { height: 1fr; }
        #editor-form, #editor-yaml { width: 1fr; padding: 0 1; }
        #editor-yaml { display: none; }
        #editor-yaml TextArea { height: 1fr; }
        EditorPreview { width: 1fr; }
        .field-row { height: auto; margin-top: 1; }
        #editor-actions { height: auto; }
        .field-label { width: 13; color: $text-muted; }
        .field-row Input, .field-row Select { width: 1fr; }
        .field-row TextArea { height: 3; width: 1fr; }
        .field-error { color: $error; height: auto; padding-left: 13; display: none; }
        #error-yaml { padding-left: 0; }
        #add-action { margin-top: 1; }
        &.-narrow {
            #editor-body { layout: vertical; }
            #editor-form, #editor-yaml { width: 1fr; height: 1fr; }
            EditorPreview { width: 1fr; height: 9; }
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
        self.suggest_names = SuggestLastItem()
        self.suggest_resources = SuggestLastItem(labelled=False)
        self.suggest_labels = SuggestLastItem()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.heading, id="editor-title")
        yield Static(id="editor-problems")
        with Horizontal(id="editor-body"):
            with VerticalScroll(id="editor-form"):
                yield from self._rows()
            with Vertical(id="editor-yaml"):
                yield TextArea(
                    language="yaml",
                    soft_wrap=False,
                    show_line_numbers=True,
                    tab_behavior="indent",
                    id="yaml-text",
                )
                yield Static(classes="field-error", id="error-yaml")
            yield EditorPreview(id="editor-preview")
        yield Footer()

    def _rows(self) -> ComposeResult:
        suggesters = {
            "expect": self.suggest_names,
            "match": self.suggest_resources,
            "for_each": self.suggest_labels,
        }
        for name, (label, placeholder) in TEXT_FIELDS.items():
            kind = "integer" if name == "threshold" else "text"
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label")
                yield Input(
                    placeholder=placeholder,
                    type=kind,
                    suggester=suggesters.get(name),
                    compact=True,
                    id=f"field-{name}",
                )
            yield Static(classes="field-error", id=f"error-{name}")
            if name == "name":
                with Horizontal(classes="field-row"):
                    yield Label("", classes="field-label")
                    yield Checkbox("enabled", True, compact=True, id="field-enabled")
                yield Static(classes="field-error", id="error-enabled")
        with Horizontal(classes="field-row"):
            yield Label("posture", classes="field-label")
            yield Select(
                [(p, p) for p in POSTURES], value="Reactive", allow_blank=False, compact=True,
                id="field-posture",
            )  # fmt: skip
        yield Static(classes="field-error", id="error-posture")
        with Horizontal(classes="field-row"):
            yield Label("payload", classes="field-label")
            yield TextArea(language="yaml", soft_wrap=False, compact=True, id="field-match_payload")
        yield Static(classes="field-error", id="error-match_payload")
        yield Vertical(id="editor-actions")
        yield Button("+ action", compact=True, id="add-action")

    def on_mount(self) -> None:
        self._layout_for(self.app.size.width)
        self.query_one(
            "#field-match_payload", TextArea
        ).placeholder = "YAML, e.g. amount: {gt: 1000}"
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
    def action_editors(self) -> list[ActionEditor]:
        return list(self.query(ActionEditor))

    # -- loading --------------------------------------------------------------------------

    @work(exclusive=True, group="editor-load", exit_on_error=False)
    async def _load(self) -> None:
        """Flows, completions and (when editing) the automation, then the form."""
        source = self.app.source  # type: ignore[attr-defined]
        since = self.clock() - SEEN_WINDOW
        flows, names, resources, latest = await asyncio.gather(
            source.flows(),
            source.event_counts("event", since),
            source.event_counts("resource", since),
            source.latest_events(200),
        )
        self.flows = flows
        self.suggest_names.values = [count["value"] for count in names]
        self.suggest_resources.values = [count["value"] for count in resources]
        labels = {label for stored in latest for label in stored.event.resource}
        self.suggest_labels.values = sorted(labels)
        if self.automation_id is not None:
            found = [a for a in await source.automations() if a["id"] == self.automation_id]
            if not found:
                self.notify(f"no automation {self.automation_id}", severity="error")
                self.dismiss(None)
                return
            self.base = definition_of_automation(found[0])
            self.heading = f"Edit automation {found[0]['name']!r}"
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
        form = form_of(definition) if is_form_editable(definition) else Form()
        for name in TEXT_FIELDS:
            self.query_one(f"#field-{name}", Input).value = getattr(form, name)
        self.query_one("#field-enabled", Checkbox).value = form.enabled
        self.query_one("#field-posture", Select).value = form.posture
        self.query_one("#field-match_payload", TextArea).load_text(form.match_payload)
        await self.query_one("#editor-actions").remove_children()
        await self._add_actions(form.actions)

    async def _add_actions(self, actions: list[ActionForm]) -> None:
        start = len(self.action_editors)
        editors = [ActionEditor(start + i, action, self.flows) for i, action in enumerate(actions)]
        await self.query_one("#editor-actions").mount_all(editors)

    # -- reading the form -----------------------------------------------------------------

    def form(self) -> Form:
        fields = {name: self.query_one(f"#field-{name}", Input).value for name in TEXT_FIELDS}
        posture = self.query_one("#field-posture", Select).value
        return Form(
            **fields,
            enabled=self.query_one("#field-enabled", Checkbox).value,
            posture=posture if isinstance(posture, str) else "Reactive",
            match_payload=self.query_one("#field-match_payload", TextArea).text,
            actions=[editor.form() for editor in self.action_editors],
        )

    def current(self) -> tuple[Json, list[FieldError]]:
        """The definition on screen (form or YAML) and the text that could not be read."""
        if not self.in_yaml:
            return definition_of(self.form(), self.base)
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
        keys = "ctrl+s save · esc leave · ctrl+r form/YAML"
        text = Text.assemble((f"{self.heading}{mark}", "bold"), f"   {mode}   ", (keys, "dim"))
        if text.plain != self._title_shown:  # an update re-lays the screen out: not per key
            self._title_shown = text.plain
            self.query_one("#editor-title", Static).update(text)

    # -- live check and preview -----------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _edited(self) -> None:
        """Any change: check and preview once the typing pauses."""
        if not self.loaded:
            return
        self._title()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._preview, name="editor-debounce")

    def _preview(self) -> None:
        definition, problems = self.current()
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
        except SourceError as error:
            known = {field_of(problem.loc) for problem in unreadable}
            others = [p for p in error.problems if field_of(p.loc) not in known]
            self.show_problems(unreadable + others)
            self.preview.waiting(FIX_FIRST)
            return
        self.show_problems(unreadable)
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
        for error in self.query(".field-error").results(Static):
            if error.id:  # the form's and the YAML's; each action shows its own
                _say(error, by_field.get(error.id.removeprefix("error-"), []))
        for editor in self.action_editors:
            editor.show_error("\n".join(by_field.get(f"actions.{editor.index}", [])))
        _say(self.query_one("#editor-problems", Static), by_field.get("", []))

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
        if self.in_yaml:
            return
        target = field_of(problems[0].loc)
        if target.startswith("actions."):
            editors = self.action_editors
            index = int(target.removeprefix("actions."))
            if index < len(editors):
                editors[index].body.focus()
        elif target:
            self.query_one(f"#field-{target}").focus()

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

    @on(Button.Pressed, "#add-action")
    async def _add_action(self) -> None:
        flow = self.flows[0]["name"] if self.flows else ""
        kind = "run-flow" if flow else "do-nothing"
        await self._add_actions([action_form({"type": kind, "flow": flow})])
        self.action_editors[-1].query_one(Select).focus()
        self._edited()

    @on(Button.Pressed, ".action-remove")
    async def _remove_action(self, message: Button.Pressed) -> None:
        editor = next(a for a in message.button.ancestors if isinstance(a, ActionEditor))
        await editor.remove()
        for index, other in enumerate(self.action_editors):
            other.index = index
            other.border_title = f"action {index + 1}"
        self._edited()


def _say(widget: Widget, lines: list[str]) -> None:
    assert isinstance(widget, Static)
    widget.update(Text("\n".join(lines)))
    widget.display = bool(lines)
