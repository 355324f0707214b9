"""Jinja templates in action parameters, rendered in a sandbox with caps (reference §3.3-3.4).

Like Prefect: Jinja's `ImmutableSandboxedEnvironment` (no `__class__` tricks, no mutation of
the context), `range()` capped at 100 items, at most 10 `for` loops nested at most 2 deep, and
undefined names, attributes and keys render as empty (`ChainableUndefined`), so an automation
written for Prefect renders the same text. Only strings holding `{{` or `{%` are templates.

Beyond Prefect:
- a string that is exactly one `{{ expression }}` (surrounding whitespace aside) keeps the
  expression's type: `{{ event.payload.size }}` is a number, `{{ event.payload }}` an object,
  an undefined value is null (in Prefect both are strings unless wrapped in `__prefect_kind`);
- `{{ event.id }}` works, and so do `event.resource.id`, `.name` and `.role` (related too);
- a template that runs away fails with a reason instead of hanging or eating memory: a budget
  of loop iterations and calls per render, an output cap, and caps on the operations that build
  big values in one step (`*`, `**`, string padding);
- `check()` finds, at save time, syntax errors, loops over the limits and names no template
  can use (a typo such as `evnt`), each with its JSON path and line.

Prefect's `__prefect_kind` parameter objects (`none`, `json`, `jinja`) are understood, so
parameters exported from Prefect render as they did there.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from pydantic import BaseModel

from evtui.automations.template_context import context_for, event_context

__all__ = [
    "TemplateError",
    "TemplateProblem",
    "check",
    "context_for",
    "event_context",
    "jsonable",
    "render",
    "render_string",
]

TEMPLATE_NAME = "<template>"
MAX_RANGE = 100
MAX_LOOPS = 10
MAX_LOOP_DEPTH = 2
MAX_STEPS = 100_000
"""Loop iterations plus calls one render may make."""
MAX_OUTPUT = 1_000_000
"""Characters one template may produce (and one value built in a single step)."""

CONTEXT_NAMES = ("event", "automation", "firing", "labels", "events", "flow_run")
"""What evtui's templates see (`context_for`)."""
PREFECT_ONLY_NAMES = frozenset(
    {"flow", "deployment", "task_run", "work_pool", "work_queue", "concurrency_limit"}
    | {"variables", "firings"}
)
"""Names Prefect fills that evtui has nothing for: they render as undefined (empty)."""

_BUDGET = "__evtui_budget"
_LOOP = "__evtui_loop"
_PREFECT_KIND = "__prefect_kind"
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class TemplateError(Exception):
    """A template that cannot be compiled or rendered; `line` is in the template, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class TemplateProblem:
    """A problem `check` found: where in the value (`parameters.path`), which line, what."""

    path: str
    line: int | None
    message: str


class _Budget:
    """Counts the steps of one render and stops it past `MAX_STEPS`."""

    def __init__(self) -> None:
        self.steps = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateError(
                f"template ran too long: more than {MAX_STEPS} loop iterations and calls"
            )

    def loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.tick()
            yield item


def _capped_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateError(f"range() of {len(numbers)} items; at most {MAX_RANGE} are allowed")
    return numbers


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(jsonable(value), indent=indent)


def _check_size(size: int) -> None:
    if size > MAX_OUTPUT:
        raise TemplateError(
            f"value of {size} characters or items; at most {MAX_OUTPUT} are allowed"
        )


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with steps counted per render and big-value operations capped."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise TemplateError(f"exponent {right} is too large; at most 64 is allowed")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if isinstance(sized, str | list | tuple) and isinstance(count, int):
                    _check_size(len(sized) * count)
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = __context.get(_BUDGET)
        if budget is not None:
            budget.tick()
        if getattr(__obj, "__name__", None) in _PADDING_METHODS and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            for width in (*args, *kwargs.values()):
                if isinstance(width, int):
                    _check_size(width)
        return super().call(__context, __obj, *args, **kwargs)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """Fail loudly: Jinja's sandbox would return an undefined that renders as empty."""
        raise SecurityError(
            f"access to attribute {attribute!r} of a {type(obj).__name__} object is unsafe"
        )


_environment = _Environment(
    undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=True
)
_environment.globals["range"] = _capped_range
_environment.filters["tojson"] = _tojson


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


@dataclass(frozen=True)
class _Compiled:
    template: Template
    expression: Callable[..., Any] | None
    """Set when the source is exactly one `{{ expression }}`: evaluates it natively."""


@lru_cache(maxsize=1024)
def _compile(source: str) -> _Compiled:
    try:
        tree = _environment.parse(source, name=TEMPLATE_NAME)
        _check_loops(tree)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(_LOOP, "load"), [loop.iter], [], None, None)
        template = _environment.from_string(tree)
        expression = _single_expression(source, tree)
    except TemplateSyntaxError as error:
        raise TemplateError(error.message or "syntax error", error.lineno) from None
    return _Compiled(template, expression)


def _check_loops(tree: nodes.Template) -> None:
    loops = list(tree.find_all(nodes.For))
    if len(loops) > MAX_LOOPS:
        raise TemplateError(f"{len(loops)} for loops; at most {MAX_LOOPS} are allowed")
    for loop in loops:
        depth = 1 + sum(1 for _ in _enclosing_loops(tree, loop))
        if depth > MAX_LOOP_DEPTH:
            raise TemplateError(
                f"for loops nested {depth} deep; at most {MAX_LOOP_DEPTH} are allowed", loop.lineno
            )


def _enclosing_loops(tree: nodes.Node, target: nodes.For) -> Iterator[nodes.For]:
    for loop in tree.find_all(nodes.For):
        if loop is not target and any(inner is target for inner in loop.find_all(nodes.For)):
            yield loop


def _single_expression(source: str, tree: nodes.Template) -> Callable[..., Any] | None:
    """The native evaluator of a source that is one `{{ expression }}` and nothing else."""
    text = source.strip()
    if not (text.startswith("{{") and text.endswith("}}")) or len(tree.body) != 1:
        return None
    output = tree.body[0]
    if not isinstance(output, nodes.Output):
        return None
    parts = [
        n for n in output.nodes if not (isinstance(n, nodes.TemplateData) and not n.data.strip())
    ]
    if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
        return None
    inner = text[2:-2].strip("-+")
    if "{{" in inner or "}}" in inner:
        return None
    return _environment.compile_expression(inner, undefined_to_none=False)


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template in `value` (dicts and lists walked, other values kept).

    Raises `TemplateError` naming what failed and, when known, the line.
    """
    if isinstance(value, str):
        return render_string(value, context) if is_template(value) else value
    if isinstance(value, Mapping):
        if _PREFECT_KIND in value:
            return _hydrate(value, context)
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    return value


def render_string(source: str, context: Mapping[str, Any]) -> Any:
    """One template: its native value if it is a single expression, else its text."""
    compiled = _compile(source)
    budget = _Budget()
    variables = {**context, _BUDGET: budget, _LOOP: budget.loop}
    try:
        if compiled.expression is not None:
            return _native(compiled.expression, variables, source)
        return _bounded_text(compiled.template.generate(variables))
    except TemplateError as error:
        raise TemplateError(error.message, error.line or _template_line(error)) from None
    except Exception as error:  # anything a template does wrong is the template's error
        raise TemplateError(_message(error), _template_line(error)) from None


def _native(expression: Callable[..., Any], variables: dict[str, Any], source: str) -> Any:
    """Evaluate a single expression; its errors are on the line of its `{{`."""
    try:
        result = jsonable(expression(**variables))
        if isinstance(result, str):
            _check_size(len(result))
        return result
    except TemplateError as error:
        error.line = error.line or _expression_line(source)
        raise
    except Exception as error:
        raise TemplateError(_message(error), _expression_line(source)) from None


def _expression_line(source: str) -> int:
    return 1 + source[: source.index("{{")].count("\n")


def _message(error: BaseException) -> str:
    if isinstance(error, SecurityError):
        return f"not allowed in the sandbox: {error}"
    if isinstance(error, RecursionError):
        return "template recursion too deep"
    return f"{type(error).__name__}: {error}"


def _bounded_text(chunks: Iterable[str]) -> str:
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateError(f"output is over {MAX_OUTPUT} characters")
        parts.append(chunk)
    return "".join(parts)


def _template_line(error: BaseException) -> int | None:
    frames = traceback.extract_tb(error.__traceback__)
    return next((f.lineno for f in reversed(frames) if f.filename == TEMPLATE_NAME), None)


def _hydrate(value: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    """Prefect's parameter kinds (§3.4): `none` passes `value` through, `jinja` renders
    `template` to text, `json` parses `value` (itself possibly a kind) as JSON."""
    kind = value[_PREFECT_KIND]
    if kind == "none":
        return value.get("value")
    if kind == "jinja":
        rendered = render_string(str(value.get("template", "")), context)
        return rendered if isinstance(rendered, str) else json.dumps(rendered)
    if kind == "json":
        inner = render(value.get("value"), context)
        if not isinstance(inner, str):
            return inner
        try:
            return json.loads(inner)
        except json.JSONDecodeError as error:
            raise TemplateError(f"json value is not valid JSON: {error.msg}") from None
    raise TemplateError(f"__prefect_kind {kind!r} is not supported; evtui knows none, json, jinja")


def jsonable(value: Any) -> Any:
    """A rendered value as JSON data: undefined is null, ids and times are text."""
    if isinstance(value, Undefined):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return str(value)


# ----------------------------------------------------------------------------- save-time check


def check(value: Any, path: str = "") -> list[TemplateProblem]:
    """Every template problem in `value` that can be found without rendering it."""
    if isinstance(value, str):
        return [TemplateProblem(path, line, message) for line, message in _source_problems(value)]
    if isinstance(value, Mapping):
        if _PREFECT_KIND in value and value[_PREFECT_KIND] not in ("none", "json", "jinja"):
            message = f"__prefect_kind {value[_PREFECT_KIND]!r} is not supported"
            return [TemplateProblem(path, None, f"{message}; evtui knows none, json, jinja")]
        return [p for key, item in value.items() for p in check(item, _join(path, key))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in check(item, _join(path, index))]
    return []


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _source_problems(source: str) -> list[tuple[int | None, str]]:
    if not is_template(source):
        return []
    try:
        _compile(source)
        tree = _environment.parse(source)
    except TemplateError as error:
        return [(error.line, error.message)]
    known = set(CONTEXT_NAMES) | PREFECT_ONLY_NAMES | set(_environment.globals)
    unknown = sorted(meta.find_undeclared_variables(tree) - known)
    return [
        (
            _first_line(tree, name),
            f"unknown name {name!r}; templates can use {', '.join(CONTEXT_NAMES)}",
        )
        for name in unknown
    ]


def _first_line(tree: nodes.Template, name: str) -> int | None:
    return next((n.lineno for n in tree.find_all(nodes.Name) if n.name == name), None)
