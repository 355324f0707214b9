"""`x`: run a flow now, with parameters typed as `key=value` lines or a JSON object.

Parameters are checked against the flow's parameter schema before the run is asked for: a
name the flow does not take, or a required one left out, is shown under the field with the
parameter's name, and the form stays open until the run starts or the user leaves with `esc`.
A `key=value` value is read as `evtui run -p` reads it: JSON when it parses (`n=3` is the
number 3, `on=true` a boolean, `xs=[1, 2]` a list), else the text itself (`name=ada`).
"""

from __future__ import annotations

import json
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, Static, TextArea

from evtui.commands.runs import parse_value
from evtui.tui.source import SourceError

Json = dict[str, Any]


class ParameterProblem(ValueError):
    """Parameters that cannot be sent: the message names the line or the parameter."""


def parse_parameters(text: str) -> Json:
    """A JSON object, or `key=value` lines (blank lines and `#` comments skipped), each value
    read as the CLI reads it (`parse_value`)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise ParameterProblem(
                f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
            ) from None
        if not isinstance(value, dict):
            raise ParameterProblem("expected a JSON object of parameter names and values")
        return value
    parameters: Json = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ParameterProblem(f"line {number}: expected name=value, got {line.strip()!r}")
        parameters[key.strip()] = parse_value(value.strip())
    return parameters


def schema_problems(flow: Json, parameters: Json) -> list[str]:
    """Names the flow does not take, and required ones missing, each naming the parameter."""
    schema = flow.get("parameters_schema") or {}
    known = schema.get("properties") or {}
    problems = [
        f"parameter {name!r}: {flow['name']} takes no such parameter"
        + (f" (it takes {', '.join(known)})" if known else " (it takes none)")
        for name in parameters
        if name not in known
    ]
    problems += [
        f"parameter {name!r}: required, and has no default"
        for name in schema.get("required") or []
        if name not in parameters
    ]
    return problems


class RunFlowScreen(ModalScreen[Json | None]):
    """Dismisses with the started run's JSON, or None when the user leaves."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Run", id="run-flow.submit", priority=True),
        Binding("escape", "dismiss_form", "Cancel", id="run-flow.cancel"),
    ]

    DEFAULT_CSS = """
    RunFlowScreen { align: center middle; }
    RunFlowScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    RunFlowScreen TextArea { height: 6; }
    RunFlowScreen #run-flow-error { color: $error; height: auto; }
    RunFlowScreen #run-flow-schema { color: $text-muted; height: auto; }
    RunFlowScreen Horizontal { height: auto; align-horizontal: right; }
    RunFlowScreen Button { margin-left: 1; }
    """

    def __init__(self, flows: list[Json], flow: str | None = None) -> None:
        super().__init__()
        self.flows = {f["name"]: f for f in flows}
        self.initial = flow if flow in self.flows else next(iter(self.flows), None)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Run a flow[/b]  ctrl+s runs, esc leaves")
            yield Select(
                [(name, name) for name in self.flows],
                value=self.initial if self.initial is not None else Select.NULL,
                allow_blank=self.initial is None,
                prompt="no flows found",
                id="run-flow-flow",
            )
            yield Static(id="run-flow-schema")
            yield TextArea(id="run-flow-parameters", soft_wrap=False, show_line_numbers=False)
            yield Static(id="run-flow-error")
            with Horizontal():
                yield Button("Run (ctrl+s)", variant="primary", id="run-flow-run")
                yield Button("Cancel (esc)", id="run-flow-cancel")

    def on_mount(self) -> None:
        self._describe(self.initial)
        self.query_one(TextArea).focus()

    @property
    def error(self) -> Static:
        return self.query_one("#run-flow-error", Static)

    @on(Select.Changed, "#run-flow-flow")
    def _flow_chosen(self, message: Select.Changed) -> None:
        self._describe(message.value if isinstance(message.value, str) else None)

    def _describe(self, name: str | None) -> None:
        """The chosen flow's parameters and their defaults, as a hint above the field."""
        flow = self.flows.get(name or "")
        text = "parameters as name=value lines, or a JSON object"
        if flow is not None:
            properties = (flow.get("parameters_schema") or {}).get("properties") or {}
            shown = [
                f"{key}={spec['default']}" if "default" in spec else key
                for key, spec in properties.items()
            ]
            text = f"{flow['name']}({', '.join(shown)}): " + text
        self.query_one("#run-flow-schema", Static).update(Content(text))

    @on(Button.Pressed, "#run-flow-run")
    def action_submit(self) -> None:
        choice = self.query_one(Select).value
        flow = self.flows.get(choice) if isinstance(choice, str) else None
        if flow is None:
            self._refuse(["flow: choose a flow to run"])
            return
        try:
            parameters = parse_parameters(self.query_one(TextArea).text)
        except ParameterProblem as problem:
            self._refuse([f"parameters: {problem}"])
            return
        problems = schema_problems(flow, parameters)
        if problems:
            self._refuse(problems)
            return
        self._refuse([])
        self._start(flow["name"], parameters)

    @work(exclusive=True, group="run-flow", exit_on_error=False)
    async def _start(self, flow: str, parameters: Json) -> None:
        try:
            run = await self.app.source.start_run(flow, parameters)  # type: ignore[attr-defined]
        except SourceError as error:
            self._refuse([str(problem) for problem in error.problems])
            return
        self.dismiss(run)

    def _refuse(self, problems: list[str]) -> None:
        """Show why the run was not started, under the field; the form stays open."""
        self.error.update(Content("\n".join(problems)))

    @on(Button.Pressed, "#run-flow-cancel")
    def action_dismiss_form(self) -> None:
        self.dismiss(None)
