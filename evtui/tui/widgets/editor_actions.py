"""One action of the automation being edited: its type, its flow, its parameters as YAML.

A `run-flow` action picks its flow from the flows evtui knows (a flow that is not found is kept
and marked, so editing never silently changes it) and edits its parameters as YAML templates
(JSON is YAML too); the flow's signature is shown above them. Any other action type edits all
its fields as YAML, starting from an example when the type is chosen.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Select, Static, TextArea

from evtui.automations.action_models import SUPPORTED_ACTIONS
from evtui.automations.export import yaml_text
from evtui.tui.editor_draft import ACTION_EXAMPLES, FLOW_ACTIONS, ActionForm

Json = dict[str, Any]


def signature(flow: Json) -> str:
    """`greet(name='world', lines=2)`: what the flow takes, defaults shown."""
    properties = (flow.get("parameters_schema") or {}).get("properties") or {}
    shown = [
        f"{key}={spec['default']!r}" if "default" in spec else key
        for key, spec in properties.items()
    ]
    return f"{flow['name']}({', '.join(shown)})"


class ActionEditor(Vertical):
    """The form of one action; `form` reads it back."""

    DEFAULT_CSS = """
    ActionEditor {
        height: auto;
        border-top: solid $panel-lighten-2;
        border-title-color: $text-muted;
        & > Horizontal { height: auto; }
        Select { width: 1fr; margin-right: 1; }
        .action-type { width: 22; }
        Button { min-width: 5; width: 5; }
        .action-hint { color: $text-muted; height: auto; }
        TextArea { height: 5; }
        .field-error { color: $error; height: auto; }
    }
    """

    def __init__(self, index: int, action: ActionForm, flows: list[Json]) -> None:
        super().__init__(classes="action-editor")
        self.index = index
        self.initial = action
        self.flows = {flow["name"]: flow for flow in flows}

    def compose(self) -> ComposeResult:
        action = self.initial
        kinds = list(dict.fromkeys([*SUPPORTED_ACTIONS, action.type]))
        names = list(self.flows)
        if action.flow and action.flow not in self.flows:
            names.append(action.flow)
        flow_options = [
            (name if name in self.flows else f"{name} (not found)", name) for name in names
        ]
        with Horizontal():
            yield Select(
                [(kind, kind) for kind in kinds if kind],
                value=action.type or Select.NULL,
                allow_blank=not action.type,
                compact=True,
                classes="action-type",
            )
            yield Select(
                flow_options,
                value=action.flow or Select.NULL,
                prompt="choose a flow" if flow_options else "no flows found",
                compact=True,
                classes="action-flow",
            )
            yield Button("✕", compact=True, classes="action-remove", tooltip="Remove the action")
        yield Static(classes="action-hint")
        yield TextArea(
            action.body,
            language="yaml",
            soft_wrap=False,
            show_line_numbers=False,
            compact=True,
            classes="action-body",
        )
        yield Static(classes="field-error")

    def on_mount(self) -> None:
        self.border_title = f"action {self.index + 1}"
        self._describe()

    @property
    def kind(self) -> str:
        value = self.query_one(".action-type", Select).value
        return value if isinstance(value, str) else ""

    @property
    def flow(self) -> str:
        value = self.query_one(".action-flow", Select).value
        return value if isinstance(value, str) else ""

    @property
    def body(self) -> TextArea:
        return self.query_one(".action-body", TextArea)

    def form(self) -> ActionForm:
        return ActionForm(self.kind, self.flow if self.kind in FLOW_ACTIONS else "", self.body.text)

    def show_error(self, message: str) -> None:
        error = self.query_one(".field-error", Static)
        error.update(Text(message))
        error.display = bool(message)

    def _describe(self) -> None:
        flow_action = self.kind in FLOW_ACTIONS
        self.query_one(".action-flow", Select).display = flow_action
        flow = self.flows.get(self.flow)
        if not flow_action:
            hint = f"{self.kind or 'action'} fields as YAML"
        elif flow is None:
            hint = "choose the flow to run; its parameters as YAML templates"
        else:
            hint = f"{signature(flow)}; parameters as YAML templates"
        self.query_one(".action-hint", Static).update(Text(hint))

    @on(Select.Changed, ".action-type")
    def _type_chosen(self, message: Select.Changed) -> None:
        if message.value == self.initial.type and self.body.text == self.initial.body:
            self._describe()
            return
        example = ACTION_EXAMPLES.get(self.kind, {})
        self.body.load_text(yaml_text(example).rstrip("\n") if example else "")
        self._describe()

    @on(Select.Changed, ".action-flow")
    def _flow_chosen(self) -> None:
        self._describe()
