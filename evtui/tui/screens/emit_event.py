"""`E`: emit a test event from a small form (a copy of the selected event when there is one).

The quickest way to see what an automation does is to send it the event it waits for. The form
asks only for what an event needs: its name, the resource id, more resource labels as
`key=value` lines, and a JSON payload; id and time are stamped when it is sent. Every problem
is shown under the field it concerns, whether the form found it (a label line without `=`,
JSON that does not parse) or the source refused the event (a name too long), and the form
stays open until the event is sent or the user leaves with `esc`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from evtui.events import RESOURCE_ID, Event, FieldError
from evtui.tui.source import SourceError

Json = dict[str, Any]

FIELDS = ("name", "resource", "labels", "payload")
"""The form's fields, in order; problems that concern none of them go under the form."""


class FormProblems(ValueError):
    """What keeps the form from making an event, each problem on the field it concerns."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {m}" for name, ms in problems.items() for m in ms))
        self.problems = problems


@dataclass
class EventForm:
    """The form's text, as typed: the fields of `FIELDS`."""

    name: str = ""
    resource: str = ""
    labels: str = ""
    payload: str = ""

    @classmethod
    def copy_of(cls, event: Event) -> EventForm:
        """The form filled from an event ("emit a copy"): its name, resource and payload."""
        labels = [f"{key}={value}" for key, value in event.resource.items() if key != RESOURCE_ID]
        return cls(
            name=event.event,
            resource=event.resource_id,
            labels="\n".join(labels),
            payload=json.dumps(event.payload, indent=2, ensure_ascii=False)
            if event.payload
            else "",
        )

    def event(self) -> Json:
        """The event to send, or `FormProblems` naming each field that is wrong and why."""
        problems: dict[str, list[str]] = {
            "name": [] if self.name.strip() else ["required, e.g. orders.created"],
            "resource": [] if self.resource.strip() else ["required, e.g. orders.1042"],
        }
        labels = _labels(self.labels, problems.setdefault("labels", []))
        payload = _payload(self.payload, problems.setdefault("payload", []))
        problems = {name: found for name, found in problems.items() if found}
        if problems:
            raise FormProblems(problems)
        return {
            "event": self.name.strip(),
            "resource": {RESOURCE_ID: self.resource.strip(), **labels},
            "payload": payload,
        }


def _labels(text: str, problems: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"line {number}: expected key=value, got {line.strip()!r}")
        elif key == RESOURCE_ID:
            problems.append(f"line {number}: the resource id goes in the resource field")
        else:
            labels[key] = value.strip()
    return labels


def _payload(text: str, problems: list[str]) -> Json:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
        return {}
    if not isinstance(value, dict):
        problems.append('expected a JSON object, e.g. {"amount": 1200}')
        return {}
    return value


def placed(refusals: list[FieldError]) -> dict[str, list[str]]:
    """The source's refusals sorted onto the form's fields (a label's problem names it)."""
    problems: dict[str, list[str]] = {}
    for problem in refusals:
        where = field_of(problem)
        label = ".".join(str(part) for part in problem.loc[1:]) if where == "labels" else ""
        problems.setdefault(where, []).append(f"{label}: {problem.msg}" if label else problem.msg)
    return problems


def field_of(problem: FieldError) -> str:
    """The form field a refusal of the event names (`form` when it names none of them)."""
    loc = [str(part) for part in problem.loc]
    head = loc[0] if loc else ""
    if head == "event":
        return "name"
    if head == "resource":
        return "resource" if len(loc) == 1 and RESOURCE_ID in problem.msg else "labels"
    if head == "payload":
        return "payload"
    return "form"


class EmitEventScreen(ModalScreen[Json | None]):
    """Dismisses with the sent event's JSON (its new id included), or None when the user
    leaves."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="emit.send", priority=True),
        Binding("escape", "leave", "Cancel", id="emit.cancel"),
    ]

    DEFAULT_CSS = """
    EmitEventScreen { align: center middle; }
    EmitEventScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $panel; padding: 0 1;
        Label { margin-top: 1; color: $text-muted; }
        #emit-title { margin-top: 0; margin-bottom: 1; color: $text; }
        .field { height: 1; Label { width: 13; margin-top: 0; } }
        TextArea { scrollbar-size-vertical: 1; }
        #emit-labels { height: 3; }
        #emit-payload { height: 6; }
        .field-error { color: $error; height: auto; display: none; padding-left: 13; }
        .field-error.-shown { display: block; }
        #emit-buttons { height: 1; align-horizontal: right; margin-top: 1; }
        Button { margin-left: 1; }
    }
    """

    def __init__(self, form: EventForm | None = None) -> None:
        super().__init__()
        self.form = form or EventForm()
        self.copy = form is not None
        """Filled from an event: the title says so."""

    def compose(self) -> ComposeResult:
        title = "Emit a copy of the selected event" if self.copy else "Emit a test event"
        with VerticalScroll():
            yield Label(
                Content.assemble((title, "bold"), ("   ctrl+s sends, esc leaves", "dim")),
                id="emit-title",
            )
            with Horizontal(classes="field"):
                yield Label("event name")
                yield Input(
                    self.form.name, placeholder="orders.created", id="emit-name", compact=True
                )
            yield Static(classes="field-error", id="emit-name-error")
            with Horizontal(classes="field"):
                yield Label("resource id")
                yield Input(
                    self.form.resource, placeholder="orders.1042", id="emit-resource", compact=True
                )
            yield Static(classes="field-error", id="emit-resource-error")
            yield Label("resource labels, key=value lines (e.g. prefect.resource.name=order)")
            yield TextArea(self.form.labels, id="emit-labels", compact=True)
            yield Static(classes="field-error", id="emit-labels-error")
            yield Label("payload, a JSON object (blank for {})")
            yield TextArea(self.form.payload, id="emit-payload", language="json", compact=True)
            yield Static(classes="field-error", id="emit-payload-error")
            yield Static(classes="field-error", id="emit-form-error")
            with Horizontal(id="emit-buttons"):
                yield Button("Send (ctrl+s)", variant="primary", id="emit-send", compact=True)
                yield Button("Cancel (esc)", id="emit-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#emit-name", Input).focus()

    def typed(self) -> EventForm:
        return EventForm(
            name=self.query_one("#emit-name", Input).value,
            resource=self.query_one("#emit-resource", Input).value,
            labels=self.query_one("#emit-labels", TextArea).text,
            payload=self.query_one("#emit-payload", TextArea).text,
        )

    @on(Button.Pressed, "#emit-send")
    def action_send(self) -> None:
        try:
            event = self.typed().event()
        except FormProblems as found:
            self.show_problems(found.problems)
            return
        self.show_problems({})
        self._send(event)

    @work(exclusive=True, group="emit", exit_on_error=False)
    async def _send(self, event: Json) -> None:
        try:
            sent = await self.app.source.emit(event)  # type: ignore[attr-defined]
        except SourceError as error:
            self.show_problems(placed(error.problems))
            return
        resource = sent["resource"][RESOURCE_ID]
        self.notify(
            f"{sent['event']} on {resource}\nid {sent['id']}", title="Event emitted", markup=False
        )
        self.dismiss(sent)

    def show_problems(self, problems: dict[str, list[str]]) -> None:
        """Each field's problems under it (the form stays open); the first is scrolled to."""
        first = None
        for name in (*FIELDS, "form"):
            shown = self.query_one(f"#emit-{name}-error", Static)
            text = "\n".join(problems.get(name, []))
            shown.update(Content(text))
            shown.set_class(bool(text), "-shown")
            if text and first is None:
                first = shown
        if first is not None:
            first.scroll_visible(animate=False)

    def problem_text(self, name: str) -> str:
        """The problems shown under field `name` ("" for none)."""
        return str(self.query_one(f"#emit-{name}-error", Static).render())

    @on(Button.Pressed, "#emit-cancel")
    def action_leave(self) -> None:
        self.dismiss(None)
