"""Templates that turn a webhook request into events: sandboxed Jinja rendering JSON.

Like Prefect Cloud's webhooks, a template sees the request (`body`, `headers`, `query`, ...) and
renders the event as JSON. It runs in Jinja's immutable sandbox (no attribute tricks, no
mutation of the request) with strict undefined, so a field the body lacks is an error naming
it, not an empty string quietly stored. Templates are parsed when a webhook is defined (syntax
errors refuse the definition) and compiled once per webhook, not per request.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from evtui.events import FieldError
from evtui.webhooks.request import MappingError

TEMPLATE_NAME = "<template>"

_environment = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)


def check_template(source: str) -> None:
    """Raise `ValueError` naming the line of a syntax error."""
    try:
        _environment.parse(source, name=TEMPLATE_NAME)
    except TemplateSyntaxError as error:
        raise ValueError(f"line {error.lineno}: {error.message}") from None


def compile_template(source: str) -> Template:
    return _environment.from_string(source)


def render_events(template: Template, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Render and parse the template's JSON: one event object or an array of them.

    Raises `MappingError` (422) with the reason: what the template tripped on and at which
    line, or where its output stops being JSON.
    """
    try:
        rendered = template.render(context)
    except Exception as error:  # anything the template does wrong is the template's error
        raise MappingError(
            422, [FieldError(loc=["template"], msg=_render_failure(error))]
        ) from None
    try:
        output = json.loads(rendered)
    except json.JSONDecodeError as error:
        near = rendered[max(0, error.pos - 30) : error.pos + 30]
        msg = (
            f"the rendered template is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno} (near {near!r})"
        )
        raise MappingError(422, [FieldError(loc=["template"], msg=msg)]) from None
    events = output if isinstance(output, list) else [output]
    for index, item in enumerate(events):
        if not isinstance(item, dict):
            loc: list[str | int] = ["template", index] if isinstance(output, list) else ["template"]
            msg = f"the rendered template must be an event object, not {type(item).__name__}"
            raise MappingError(422, [FieldError(loc=loc, msg=msg)])
    return events


def _render_failure(error: Exception) -> str:
    line = next(
        (
            frame.lineno
            for frame in reversed(traceback.extract_tb(error.__traceback__))
            if frame.filename == TEMPLATE_NAME
        ),
        None,
    )
    where = f" at line {line}" if line else ""
    return f"rendering failed{where}: {error}"
