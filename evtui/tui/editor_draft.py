"""The automation being edited, as the text its form shows and back (no Textual here).

The trigger editor keeps one JSON definition (the API's create body) as the truth and shows
parts of it as short text fields: lists as comma-separated items, `match` as `label=glob` items
(a bare glob is the resource id), `within` as a duration (`90s`, `5m`, `1h30m` or seconds),
payload conditions and action parameters as YAML (JSON is YAML too). Turning the form back
into a definition starts from that definition, so whatever the form does not show
(`match_related`, `after`, `description`, `actions_on_resolve`...) is kept as it was.

Text that cannot be read is reported as `FieldError`s at the definition's own locations
(`trigger.within`, `actions.0.parameters`), the same locations the engine's validation uses,
so the screen shows both kinds of problem next to the same field.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from evtui.automations.export import without_trigger_ids, yaml_text
from evtui.automations.models import AutomationCreate
from evtui.events import RESOURCE_ID, FieldError

Json = dict[str, Any]

TRIGGER_FIELDS = ("expect", "match", "for_each", "threshold", "within", "posture", "match_payload")
"""The event-trigger fields the form shows, each at `trigger.<field>`."""
POSTURES = ("Reactive", "Proactive")
FLOW_ACTIONS = ("run-flow",)
"""Actions whose flow is picked from a list and whose parameters are edited as YAML."""
ACTION_EXAMPLES: dict[str, Json] = {
    "run-flow": {},
    "emit-event": {
        "event": {
            "event": "my.event",
            "resource": {RESOURCE_ID: "{{ event.resource.id }}"},
        }
    },
    "run-deployment": {"deployment_id": "my_flow/default", "parameters": {}},
    "call-webhook": {"method": "POST", "url": "https://example.com/hook", "body": {}},
    "cancel-flow-run": {},
    "pause-automation": {"source": "inferred"},
    "resume-automation": {"source": "inferred"},
    "do-nothing": {},
}
"""What the YAML of a newly chosen action type starts with (keys are the action types)."""
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


@dataclass
class ActionForm:
    """One action as the form shows it."""

    type: str
    flow: str = ""
    """The flow of a `run-flow` action."""
    body: str = ""
    """YAML: a `run-flow`'s parameters; for any other type, its fields except `type`."""


@dataclass
class Form:
    """Every field of the form as text."""

    name: str = ""
    enabled: bool = True
    expect: str = ""
    match: str = ""
    for_each: str = ""
    threshold: str = "1"
    within: str = "0"
    posture: str = "Reactive"
    match_payload: str = ""
    actions: list[ActionForm] = field(default_factory=list)


def blank_definition(flow: str | None) -> Json:
    """A new automation: a Reactive trigger on every event that runs `flow` (or does nothing)."""
    action: Json = {"type": "run-flow", "flow": flow, "parameters": {}} if flow else {}
    return {
        "name": "",
        "enabled": True,
        "trigger": {"type": "event", "posture": "Reactive", "threshold": 1, "within": 0},
        "actions": [action or {"type": "do-nothing"}],
    }


def definition_of_automation(automation: Json) -> Json:
    """A stored automation's JSON (as the sources list them) as a definition to edit: without
    the server's fields, live state or trigger ids, which are new on every save anyway."""
    kept = {
        k: copy.deepcopy(v) for k, v in automation.items() if k in AutomationCreate.model_fields
    }
    if isinstance(kept.get("trigger"), dict):
        kept["trigger"] = without_trigger_ids(kept["trigger"])
    return kept


def is_form_editable(definition: Json) -> bool:
    """Only an event trigger fits the form; compound and sequence triggers are edited as YAML."""
    trigger = definition.get("trigger")
    if not isinstance(trigger, dict):
        return False
    return trigger.get("type", "event") == "event" and "triggers" not in trigger


HIDDEN_FIELDS = ("description", "tags", "actions_on_trigger", "actions_on_resolve")
HIDDEN_TRIGGER_FIELDS = ("after", "match_related")


def hidden_fields(definition: Json) -> list[str]:
    """Fields set in `definition` that the form does not show (kept as they are)."""
    trigger = definition.get("trigger") or {}
    return [name for name in HIDDEN_FIELDS if definition.get(name)] + [
        f"trigger.{name}" for name in HIDDEN_TRIGGER_FIELDS if trigger.get(name)
    ]


# -- definition -> form ---------------------------------------------------------------------


def form_of(definition: Json) -> Form:
    trigger = definition.get("trigger") or {}
    return Form(
        name=str(definition.get("name") or ""),
        enabled=bool(definition.get("enabled", True)),
        expect=", ".join(trigger.get("expect") or []),
        match=format_match(trigger.get("match") or {}),
        for_each=", ".join(trigger.get("for_each") or []),
        threshold=str(trigger.get("threshold", 1)),
        within=format_duration(trigger.get("within", 0)),
        posture=str(trigger.get("posture", "Reactive")),
        match_payload=_yaml_or_empty(trigger.get("match_payload")),
        actions=[action_form(action) for action in definition.get("actions") or []],
    )


def action_form(action: Json) -> ActionForm:
    kind = str(action.get("type", ""))
    if kind in FLOW_ACTIONS:
        return ActionForm(
            kind, str(action.get("flow") or ""), _yaml_or_empty(action.get("parameters"))
        )
    fields = {key: value for key, value in action.items() if key != "type"}
    return ActionForm(kind, "", _yaml_or_empty(fields))


def format_match(match: Json) -> str:
    """`{"prefect.resource.id": "file.*", "size": ["9*", "1*"]}` -> `file.*, size=9*, size=1*`."""
    items = []
    for label, patterns in match.items():
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            items.append(pattern if label == RESOURCE_ID else f"{label}={pattern}")
    return ", ".join(items)


def format_duration(seconds: Any) -> str:
    """Whole seconds as `1h30m`, `45s` or `0`; anything else as it is."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return str(seconds)
    if seconds != int(seconds) or seconds <= 0:
        return str(seconds) if seconds else "0"
    rest, parts = int(seconds), []
    for unit, size in _UNIT_SECONDS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _yaml_or_empty(value: Any) -> str:
    return "" if not value else yaml_text(value).rstrip("\n")


# -- form -> definition ---------------------------------------------------------------------


def definition_of(form: Form, base: Json) -> tuple[Json, list[FieldError]]:
    """`base` with the form's values in it, and the fields whose text cannot be read."""
    problems: list[FieldError] = []
    definition = copy.deepcopy(base)
    definition["name"] = form.name.strip()
    definition["enabled"] = form.enabled
    trigger = definition.setdefault("trigger", {})
    trigger.setdefault("type", "event")
    trigger["expect"] = split_items(form.expect)
    trigger["for_each"] = split_items(form.for_each)
    trigger["posture"] = form.posture
    trigger["match"] = parse_match(form.match)
    readers = {
        "threshold": _integer,
        "within": parse_duration,
        "match_payload": lambda text: parse_yaml_mapping(text, "payload conditions"),
    }
    for name, read in readers.items():
        try:
            trigger[name] = read(getattr(form, name))
        except ValueError as error:
            problems.append(FieldError(loc=["trigger", name], msg=str(error)))
    actions = []
    for index, action in enumerate(form.actions):
        built, problem = _action_of(action, (base.get("actions") or [])[index : index + 1])
        actions.append(built)
        if problem:
            problems.append(FieldError(loc=["actions", index, *problem.loc], msg=problem.msg))
    definition["actions"] = actions
    return definition, problems


def _action_of(form: ActionForm, before: list[Json]) -> tuple[Json, FieldError | None]:
    """The action the form describes; fields a flow action's form does not show are kept."""
    what = "parameters" if form.type in FLOW_ACTIONS else f"{form.type} fields"
    try:
        body = parse_yaml_mapping(form.body, what)
    except ValueError as error:
        where: list[str | int] = ["parameters"] if form.type in FLOW_ACTIONS else []
        return {"type": form.type}, FieldError(loc=where, msg=str(error))
    if form.type not in FLOW_ACTIONS:
        return {"type": form.type, **body}, None
    kept = before[0] if before and before[0].get("type") == form.type else {}
    return {**kept, "type": form.type, "flow": form.flow, "parameters": body}, None


def split_items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_match(text: str) -> Json:
    """`file.*, size=9*` -> `{"prefect.resource.id": "file.*", "size": "9*"}`; a label given
    twice becomes a list of globs (any of them matches)."""
    match: dict[str, Any] = {}
    for item in split_items(text):
        label, sep, pattern = item.partition("=")
        label, pattern = (label.strip(), pattern.strip()) if sep else (RESOURCE_ID, item)
        if label in match:
            previous = match[label]
            match[label] = [*([previous] if isinstance(previous, str) else previous), pattern]
        else:
            match[label] = pattern
    return match


def parse_duration(text: str) -> float | int:
    """Seconds from `90`, `90s`, `5m`, `1h30m` or `2d`."""
    stripped = text.strip().replace(" ", "")
    if not stripped:
        return 0
    try:
        number = float(stripped)
    except ValueError:
        pass
    else:
        return int(number) if number.is_integer() else number
    parts = _DURATION.findall(stripped)
    if not parts or "".join(n + u for n, u in parts).lower() != stripped.lower():
        raise ValueError(
            f"{text.strip()!r} is not a duration: write seconds, or e.g. 90s, 5m, 1h30m"
        )
    seconds = sum(float(number) * _UNIT_SECONDS[unit.lower()] for number, unit in parts)
    return int(seconds) if seconds.is_integer() else seconds


def _integer(text: str) -> int:
    if not text.strip():
        raise ValueError("give a whole number (1 or more)")
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a whole number") from None


def parse_yaml_mapping(text: str, what: str) -> Json:
    """A YAML (or JSON) mapping; empty text is an empty one."""
    value = load_yaml(text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a mapping of names to values, not {value!r}")
    return value


def load_yaml(text: str) -> Any:
    """The YAML document, or `ValueError` saying on which line it is not valid."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ValueError(f"{where}not valid YAML: {problem}") from None


def yaml_line(message: str) -> int | None:
    """The line number (from 1) a `load_yaml` message names, if any."""
    found = re.match(r"line (\d+)", message)
    return int(found.group(1)) if found else None


# -- where a problem shows -----------------------------------------------------------------


def field_of(loc: list[str | int]) -> str:
    """The form field a problem at `loc` belongs to: `name`, `enabled`, a trigger field,
    `actions.N`, or `""` for the form as a whole (e.g. `trigger.match_related`)."""
    if not loc:
        return ""
    head = loc[0]
    if head in ("name", "enabled"):
        return str(head)
    if head == "trigger" and len(loc) > 1 and loc[1] in TRIGGER_FIELDS:
        return str(loc[1])
    if head == "actions" and len(loc) > 1 and isinstance(loc[1], int):
        return f"actions.{loc[1]}"
    return ""


def problem_text(problem: FieldError) -> str:
    """The reason, with the part of the location the field itself does not say."""
    inner = [str(part) for part in problem.loc[_shown_depth(problem.loc) :]]
    return f"{'.'.join(inner)}: {problem.msg}" if inner else problem.msg


def _shown_depth(loc: list[str | int]) -> int:
    name = field_of(loc)
    if not name:
        return 0
    return 2 if name in TRIGGER_FIELDS or name.startswith("actions.") else 1
