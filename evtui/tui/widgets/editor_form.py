"""The trigger editor's form: the event trigger's fields and the actions, as text widgets.

The form only shows and reads: `fill` puts a definition's text in the fields (`editor_draft`
does the translation), `read` gives it back as a `Form`, and `show_problems` puts each reason
under the field it names. Checking, previewing and saving are the screen's. Completions come
from the suggesters the screen fills once it has read what evtui has seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from evtui.tui.editor_draft import POSTURES, ActionForm, Form, action_form
from evtui.tui.widgets.editor_actions import ActionEditor
from evtui.tui.widgets.editor_suggest import SuggestLastItem

Json = dict[str, Any]

TEXT_FIELDS = {
    "name": ("name", "what the automation is called"),
    "expect": ("event names", "globs, comma-separated: file.created, orders.*"),
    "match": ("resource", "resource id globs, or label=glob; comma-separated"),
    "for_each": ("for each", "labels: a count per value (comma-separated)"),
    "threshold": ("threshold", "how many events"),
    "within": ("within", "window: seconds, or 90s, 5m, 1h30m (0: no window)"),
}
"""Input fields: form attribute -> (label, placeholder)."""
HINTED = ("expect", "match", "for_each")
"""Fields that list what evtui has seen under them while they have focus."""
HINTS_SHOWN = 5


def say(widget: Widget, lines: Sequence[str]) -> None:
    """Show the lines in a problem line (a `Static`), or hide it when there are none."""
    assert isinstance(widget, Static)
    widget.update(Text("\n".join(lines)))
    widget.display = bool(lines)


class TriggerForm(VerticalScroll):
    """Name, enabled, the trigger's fields, then one `ActionEditor` per action."""

    DEFAULT_CSS = """
    TriggerForm {
        padding: 0 1;
        .field-row { height: auto; margin-top: 1; }
        #editor-actions { height: auto; }
        .field-label { width: 13; color: $text-muted; }
        .field-row Input, .field-row Select { width: 1fr; }
        .field-row TextArea { height: 3; width: 1fr; }
        .field-error { color: $error; height: auto; padding-left: 13; display: none; }
        .field-hint { color: $text-muted; height: auto; padding-left: 13; display: none; }
        #add-action { margin-top: 1; }
    }
    """

    class Changed(Message):
        """An action was added or removed (fields say so with their own messages)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.flows: list[Json] = []
        """The flows a flow action can pick (the screen sets them before `fill`)."""
        self.suggest_names = SuggestLastItem()
        self.suggest_resources = SuggestLastItem(labelled=False)
        self.suggest_labels = SuggestLastItem()
        self._hints: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        suggesters = self.suggesters
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
            if name in HINTED:
                yield Static(classes="field-hint", id=f"hint-{name}")
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

    @property
    def suggesters(self) -> dict[str, SuggestLastItem]:
        return {
            "expect": self.suggest_names,
            "match": self.suggest_resources,
            "for_each": self.suggest_labels,
        }

    def on_mount(self) -> None:
        payload = self.query_one("#field-match_payload", TextArea)
        payload.placeholder = "YAML, e.g. amount: {gt: 1000}"

    @property
    def action_editors(self) -> list[ActionEditor]:
        return list(self.query(ActionEditor))

    async def fill(self, form: Form) -> None:
        for name in TEXT_FIELDS:
            self.query_one(f"#field-{name}", Input).value = getattr(form, name)
        self.query_one("#field-enabled", Checkbox).value = form.enabled
        self.query_one("#field-posture", Select).value = form.posture
        self.query_one("#field-match_payload", TextArea).load_text(form.match_payload)
        await self.query_one("#editor-actions").remove_children()
        await self._add_actions(form.actions)

    def read(self) -> Form:
        fields = {name: self.query_one(f"#field-{name}", Input).value for name in TEXT_FIELDS}
        posture = self.query_one("#field-posture", Select).value
        return Form(
            **fields,
            enabled=self.query_one("#field-enabled", Checkbox).value,
            posture=posture if isinstance(posture, str) else "Reactive",
            match_payload=self.query_one("#field-match_payload", TextArea).text,
            actions=[editor.form() for editor in self.action_editors],
        )

    def show_problems(self, by_field: Mapping[str, Sequence[str]]) -> None:
        """The reasons under each field (`name`, `threshold`, `actions.0`...); others clear."""
        for error in self.query(".field-error").results(Static):
            if error.id:  # the form's own; each action shows its own
                say(error, by_field.get(error.id.removeprefix("error-"), []))
        for editor in self.action_editors:
            editor.show_error("\n".join(by_field.get(f"actions.{editor.index}", [])))

    def focus_field(self, field: str) -> None:
        """Focus the field a problem names (an action's parameters for `actions.N`)."""
        if field.startswith("actions."):
            editors = self.action_editors
            index = int(field.removeprefix("actions."))
            if index < len(editors):
                editors[index].body.focus()
        elif field:
            self.query_one(f"#field-{field}").focus()

    @on(Input.Changed)
    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _hint(self) -> None:
        """Under the focused completing field: the values seen that the item being typed
        could still become (`right` takes the first)."""
        focused = self.screen.focused
        for name in HINTED:
            field = self.query_one(f"#field-{name}", Input)
            seen = self.suggesters[name].candidates(field.value, HINTS_SHOWN + 1)
            lines = []
            if field is focused and seen:
                more = ", …" if len(seen) > HINTS_SHOWN else ""
                lines = [f"seen: {', '.join(seen[:HINTS_SHOWN])}{more}   (→ completes)"]
            if self._hints.get(name) != lines:  # an update re-lays the form out: only on change
                self._hints[name] = lines
                say(self.query_one(f"#hint-{name}"), lines)

    async def _add_actions(self, actions: list[ActionForm]) -> None:
        start = len(self.action_editors)
        editors = [ActionEditor(start + i, action, self.flows) for i, action in enumerate(actions)]
        await self.query_one("#editor-actions").mount_all(editors)

    @on(Button.Pressed, "#add-action")
    async def _add_action(self) -> None:
        flow = self.flows[0]["name"] if self.flows else ""
        kind = "run-flow" if flow else "do-nothing"
        await self._add_actions([action_form({"type": kind, "flow": flow})])
        self.action_editors[-1].query_one(Select).focus()
        self.post_message(self.Changed())

    @on(Button.Pressed, ".action-remove")
    async def _remove_action(self, message: Button.Pressed) -> None:
        editor = next(a for a in message.button.ancestors if isinstance(a, ActionEditor))
        await editor.remove()
        for index, other in enumerate(self.action_editors):
            other.index = index
            other.border_title = f"action {index + 1}"
        self.post_message(self.Changed())
