"""Database values as JSON: in event payloads, and as stored cursors that keep their type.

A payload only needs to be readable and matchable (`payload.row.amount > 1000`), so dates
become ISO text and decimals numbers. A cursor must come back as what it was: a timestamp
cursor bound as text would compare as text in PostgreSQL (or fail), so it is stored tagged,
`{"datetime": "2026-11-26T12:00:00+00:00"}`, and rebuilt before it is bound.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

CursorValue = int | float | str | datetime | date | Decimal


class UnsupportedCursor(ValueError):
    """The cursor column holds a value that cannot be stored and bound back."""


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Types JSON takes as they are: most columns, checked first by exact type (the fast path)."""


def json_value(value: Any) -> Any:
    """A JSON-compatible copy of one column's value."""
    if type(value) in _PLAIN or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def text_value(value: Any) -> str:
    """One value as label text (labels are strings)."""
    converted = json_value(value)
    return converted if isinstance(converted, str) else json.dumps(converted)


def encode_cursor(value: Any) -> str:
    """The tagged JSON stored for a cursor value; raises `UnsupportedCursor` for other types."""
    if isinstance(value, bool):
        raise UnsupportedCursor("a true/false column cannot be a cursor: it does not grow")
    if isinstance(value, int):
        tagged: dict[str, Any] = {"int": value}
    elif isinstance(value, float):
        tagged = {"float": value}
    elif isinstance(value, str):
        tagged = {"str": value}
    elif isinstance(value, datetime):
        tagged = {"datetime": value.isoformat()}
    elif isinstance(value, date):
        tagged = {"date": value.isoformat()}
    elif isinstance(value, Decimal):
        tagged = {"decimal": str(value)}
    else:
        raise UnsupportedCursor(
            f"a cursor of type {type(value).__name__} cannot be stored; use a number, text, "
            "date or timestamp column"
        )
    return json.dumps(tagged)


def decode_cursor(text: str) -> CursorValue:
    ((tag, raw),) = json.loads(text).items()
    if tag == "datetime":
        return datetime.fromisoformat(raw)
    if tag == "date":
        return date.fromisoformat(raw)
    if tag == "decimal":
        return Decimal(raw)
    if tag in ("int", "float", "str"):
        return raw
    raise ValueError(f"stored cursor {text!r} has an unknown type")
