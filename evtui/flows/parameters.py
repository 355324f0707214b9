"""A flow's parameters, validated against its function signature with pydantic.

Runs receive parameters as JSON (from the API, the CLI, an automation), so they are checked
and coerced the way Prefect does it: a pydantic model built from the signature, in lax mode
("5" becomes 5 for an `int`). Errors name the parameter, so whoever started the run can fix it:
`parameter 'rows': Input should be a valid integer`.

Model fields get neutral names with the parameter name as alias: a parameter called `schema`
or `model_config` would otherwise clash with pydantic's own attributes.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from evtui.flows.errors import ParameterError

_CONFIG = ConfigDict(arbitrary_types_allowed=True)


class Parameters:
    """The parameters of one function; the pydantic model is built on first use."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self._signature = inspect.signature(fn)
        self._model: type[BaseModel] | None = None

    @property
    def names(self) -> list[str]:
        return list(self._signature.parameters)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """A direct call's arguments as a parameters dict (what a run would receive)."""
        bound = self._signature.bind_partial(*args, **kwargs).arguments
        values: dict[str, Any] = {}
        for name, value in bound.items():
            if self._signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                values.update(value)
            else:
                values[name] = value
        return values

    def validate(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Validated and coerced values by parameter name; raises `ParameterError`."""
        model = self.model()
        try:
            validated = model.model_validate(parameters)
        except ValidationError as error:
            raise ParameterError([self._describe(problem) for problem in error.errors()]) from None
        values = {
            info.alias: getattr(validated, name)
            for name, info in model.model_fields.items()
            if info.alias is not None
        }
        values.update(validated.model_extra or {})
        return values

    def call(self, fn: Callable[..., Any], values: dict[str, Any]) -> Any:
        """Call `fn` with validated values; those before and in `*args` go by position."""
        kinds = {parameter.kind for parameter in self._signature.parameters.values()}
        positional = {inspect.Parameter.POSITIONAL_ONLY}
        if inspect.Parameter.VAR_POSITIONAL in kinds:
            positional.add(inspect.Parameter.POSITIONAL_OR_KEYWORD)
        args: list[Any] = []
        values = dict(values)
        for name, parameter in self._signature.parameters.items():
            if parameter.kind in positional:
                args.append(values.pop(name))
            elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(values.pop(name))
        return fn(*args, **values)

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of the parameters; a type pydantic cannot describe shows as any."""
        try:
            schema = self.model().model_json_schema(by_alias=True)
        except Exception:
            schema = self._build(describable_only=True).model_json_schema(by_alias=True)
        schema["title"] = "Parameters"
        return schema

    def model(self) -> type[BaseModel]:
        if self._model is None:
            try:
                self._model = self._build(describable_only=False)
            except Exception:
                self._model = self._build(describable_only=True)
        return self._model

    def _build(self, describable_only: bool) -> type[BaseModel]:
        hints = _type_hints(self._fn)
        fields: dict[str, Any] = {}
        extra = "forbid"
        for position, (name, parameter) in enumerate(self._signature.parameters.items()):
            annotation = hints.get(name, Any)
            if describable_only and not _describable(annotation):
                annotation = Any
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                extra = "allow"
                continue
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                annotation, default = list[annotation], []  # type: ignore[valid-type]
            elif parameter.default is inspect.Parameter.empty:
                default = ...
            else:
                default = parameter.default
            fields[f"p{position}"] = (annotation, Field(default, alias=name))
        config = ConfigDict(_CONFIG, extra=extra)  # type: ignore[typeddict-item]
        return create_model(self._fn.__name__, __config__=config, **fields)

    def _describe(self, problem: Any) -> str:
        loc = problem["loc"]
        where = ".".join(str(part) for part in loc)
        if problem["type"] == "missing" and len(loc) == 1:
            return f"parameter {where!r}: required but not given"
        if problem["type"] == "extra_forbidden" and len(loc) == 1:
            takes = ", ".join(self.names) or "no parameters"
            return f"parameter {where!r}: not a parameter of this flow (it takes {takes})"
        return f"parameter {where!r}: {problem['msg']}"


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations; one that cannot be resolved (a name that is gone) counts as any."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        hints = {}
        for name, parameter in inspect.signature(fn).parameters.items():
            annotation = parameter.annotation
            if isinstance(annotation, str):
                try:
                    annotation = eval(annotation, getattr(fn, "__globals__", {}))
                except Exception:
                    annotation = Any
            hints[name] = Any if annotation is inspect.Parameter.empty else annotation
        return hints


def _describable(annotation: Any) -> bool:
    try:
        TypeAdapter(annotation).json_schema()
    except Exception:
        return False
    return True
