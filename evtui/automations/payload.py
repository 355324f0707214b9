"""Matching on payload values: evtui's `match_payload` extension of event triggers.

Prefect triggers can only look at resource labels, so "only CSV files larger than 1 KB" needs
a flow that checks and exits. `match_payload` says it in the trigger: a mapping from a dotted
path into the event's payload to a condition, all conditions AND'd:

- a string or a list of strings: glob patterns with the label rules (`*` anywhere, leading `!`
  negates, a list is OR'd); a non-string value is compared as its JSON text (`10`, `true`,
  `null`), an object or a list never matches a pattern;
- a mapping of comparisons, AND'd: `{"gt": 1024}`, `{"ge": 1, "lt": 10}`; the compact
  spellings `>`, `>=`, `<`, `<=`, `==`, `!=` mean `gt`, `ge`, `lt`, `le`, `eq`, `ne`; the value
  must be a number or a string holding one (labels and some senders carry numbers as text);
- a bare number means `{"eq": number}`, a bare `true`/`false` means exactly that boolean.

Paths walk objects by key and lists by index (`files.0.size`); a key that contains a dot cannot
be addressed. As with labels, a path the payload lacks never matches, whatever the condition,
negations and `ne` included.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from evtui.labels import any_pattern_matches, as_patterns

COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "gt": (">", operator.gt),
    "ge": (">=", operator.ge),
    "lt": ("<", operator.lt),
    "le": ("<=", operator.le),
    "eq": ("==", operator.eq),
    "ne": ("!=", operator.ne),
}
"""Operator name -> (symbol, test); the symbol is accepted as a compact spelling."""

_BY_SYMBOL = {symbol: name for name, (symbol, _) in COMPARISONS.items()}
_OPERATOR_LIST = ", ".join(f"{name} ({symbol})" for name, (symbol, _) in COMPARISONS.items())

MISSING = object()


def check_payload_conditions(conditions: Mapping[str, Any]) -> Mapping[str, Any]:
    """Raise `ValueError` naming the first path whose condition cannot be understood."""
    for path, condition in conditions.items():
        if not path or any(not part for part in path.split(".")):
            raise ValueError(f"{path!r} is not a dotted path such as 'file.size'")
        problem = _condition_problem(condition)
        if problem:
            raise ValueError(f"{path!r}: {problem}")
    return conditions


def _condition_problem(condition: Any) -> str | None:
    if isinstance(condition, str | bool | int | float):
        return None
    if isinstance(condition, list):
        if all(isinstance(item, str) for item in condition):
            return None
        return "a list holds glob patterns (strings) only"
    if isinstance(condition, dict):
        if not condition:
            return f"give at least one comparison: {_OPERATOR_LIST}"
        for key, bound in condition.items():
            if _operator_name(key) is None:
                return f"unknown comparison {key!r}; use one of {_OPERATOR_LIST}"
            if not _is_number(bound):
                return f"comparison {key!r} needs a number, not {bound!r}"
        return None
    return (
        "expected a glob pattern, a list of them, a number, true/false, or comparisons "
        f"such as {{'gt': 1024}}, not {condition!r}"
    )


def _operator_name(key: str) -> str | None:
    return key if key in COMPARISONS else _BY_SYMBOL.get(key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def resolve(payload: Any, path: str) -> Any:
    """The value at a dotted path, or `MISSING` when the payload has nothing there."""
    value = payload
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def payload_mismatch(conditions: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """None if every condition holds, else the first that does not, in words."""
    for path, condition in conditions.items():
        value = resolve(payload, path)
        if value is MISSING:
            return f"payload has no {path!r}"
        reason = _value_mismatch(condition, value)
        if reason:
            return f"payload {path!r} is {_shown(value)}, {reason}"
    return None


def _value_mismatch(condition: Any, value: Any) -> str | None:
    if isinstance(condition, bool):
        return None if value is condition else f"not {json.dumps(condition)}"
    if _is_number(condition):
        return _comparisons_mismatch({"eq": condition}, value)
    if isinstance(condition, dict):
        return _comparisons_mismatch(condition, value)
    if isinstance(value, dict | list):
        return "not a single value a pattern can match"
    text = value if isinstance(value, str) else json.dumps(value)
    if any_pattern_matches(condition, text):
        return None
    patterns = as_patterns(condition)
    return f"not {patterns[0]!r}" if len(patterns) == 1 else f"not any of {patterns!r}"


def _comparisons_mismatch(comparisons: Mapping[str, float], value: Any) -> str | None:
    number = _as_number(value)
    if number is None:
        return "not a number"
    for key, bound in comparisons.items():
        symbol, test = COMPARISONS[_operator_name(key) or key]
        if not test(number, bound):
            return f"not {symbol} {bound}"
    return None


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
